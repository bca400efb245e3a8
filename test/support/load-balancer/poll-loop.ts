/**
 * A poll for the load balancer stand-ins: `poll()` now, then every `everyMs` on the clock, never two
 * at once (`sync()` queues one more behind whatever runs). `once` reports its own failures; one that
 * throws anyway is passed to `onError` and the loop goes on. `stop()` ends the loop and waits for the
 * poll in progress.
 */
import type { Clock } from "../../../src/core/clock.js";

export interface PollLoop {
  sync(): Promise<void>;
  stop(): Promise<void>;
}

export function startPollLoop(clock: Clock, everyMs: number, once: () => Promise<void>, onError: (error: unknown) => void = () => {}): PollLoop {
  const stopper = new AbortController();
  let syncing: Promise<void> = Promise.resolve();
  const sync = () => (syncing = syncing.then(() => (stopper.signal.aborted ? undefined : once())).catch(onError));
  const loop = (async () => {
    while (!stopper.signal.aborted) {
      await clock.sleep(everyMs, stopper.signal).catch(() => {});
      if (!stopper.signal.aborted) await sync();
    }
  })();
  return {
    sync,
    stop: async () => {
      stopper.abort();
      await Promise.all([loop, syncing]);
    },
  };
}
