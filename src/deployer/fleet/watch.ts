import type { Clock } from "../../core/clock.js";

/**
 * `synkti status --watch`: the same status, read again every `intervalMs` (from the start of one
 * read to the next, so a slow read does not stretch the period) until `signal` aborts (Ctrl-C).
 * Each read is one document handed to `emit`: the CLI redraws the terminal with it or writes it as
 * one NDJSON line. A failed read after the first is shown (`onError`) and the next one tried: a
 * throttled or dropped call must not end a live view; a first read that fails ends the watch with
 * its error (wrong credentials, no region), as `synkti status` would.
 */
export interface WatchOptions {
  intervalMs: number;
  signal: AbortSignal;
  /** Stop after this many documents (tests); default: until aborted. */
  count?: number;
}

export async function watchStatus<T>(
  deps: { clock: Clock },
  read: (signal: AbortSignal) => Promise<T>,
  emit: (document: T) => void,
  onError: (error: unknown) => void,
  options: WatchOptions,
): Promise<number> {
  const { clock } = deps;
  const { signal } = options;
  let emitted = 0;
  for (let n = 0; !signal.aborted; n++) {
    const started = clock.now();
    try {
      const document = await read(signal);
      if (signal.aborted) break;
      emit(document);
      emitted++;
      if (options.count !== undefined && emitted >= options.count) break;
    } catch (error) {
      if (signal.aborted) break;
      if (n === 0) throw error;
      onError(error);
    }
    try {
      await clock.sleep(Math.max(0, options.intervalMs - (clock.now() - started)), signal);
    } catch {
      break;
    }
  }
  return emitted;
}

