import { setImmediate as nextTurn } from "node:timers/promises";
import type { Clock } from "../../src/core/clock.js";

interface Sleeper {
  wakeAt: number;
  seq: number;
  resolve(): void;
}

/**
 * A Clock whose time moves only when a test says so.
 *
 * - `now()` starts at `start` (a fixed date, so timestamps in snapshots are stable).
 * - `sleep(ms, signal)` registers a sleeper; it resolves when `advance` reaches its wake time and
 *   rejects with the signal's reason when aborted (like the system clock). `ms <= 0` resolves at once.
 * - `advance(ms)` wakes sleepers one at a time in wake-time order (ties: the order they slept in),
 *   setting `now()` to each one's wake time and letting the woken code run before the next one, so
 *   a sleeper registered by woken code inside the window also fires. It ends with `now() = start + ms`.
 * - `untilPending(n)` waits, without moving time, until n sleepers wait (code doing real I/O first).
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly sleepers = new Set<Sleeper>();

  constructor(start: number | Date = Date.parse("2026-01-01T00:00:00Z")) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        wakeAt: this.current + ms,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.sleepers.add(sleeper);
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new Error(`FakeClock cannot go back in time (advance(${ms}))`);
    const target = this.current + ms;
    for (;;) {
      await settle();
      const next = this.earliestDue(target);
      if (!next) break;
      this.sleepers.delete(next);
      this.current = next.wakeAt;
      next.resolve();
    }
    this.current = target;
    await settle();
  }

  /** How many sleepers wait, e.g. to assert that a deadline is armed or was cleaned up. */
  pending(): number {
    return this.sleepers.size;
  }

  /**
   * Waits (in real event-loop turns, no fake time passes) until at least `count` sleepers wait: for
   * code that does real I/O (files, sockets) before it sleeps, so `advance` does not run too early.
   */
  async untilPending(count = 1, maxTurns = 100_000): Promise<void> {
    for (let turn = 0; this.sleepers.size < count; turn++) {
      if (turn >= maxTurns) throw new Error(`FakeClock: ${this.sleepers.size} sleepers after ${maxTurns} turns, expected ${count}`);
      await settle();
    }
  }

  /** Lets already-started async work reach its next sleep (no time passes). */
  async settle(): Promise<void> {
    await settle();
  }

  private earliestDue(target: number): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) {
      if (s.wakeAt > target) continue;
      if (!best || s.wakeAt < best.wakeAt || (s.wakeAt === best.wakeAt && s.seq < best.seq)) best = s;
    }
    return best;
  }
}

/** One macrotask turn: every promise chain started so far runs until it awaits something new. */
async function settle(): Promise<void> {
  await nextTurn();
}
