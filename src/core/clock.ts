/**
 * Time is injected: production uses the system clock, tests a fake one that advances on demand,
 * so deadlines, polling and timelines are tested without real waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

export class DeadlineExceeded extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = "DeadlineExceeded";
  }
}

/**
 * Runs `work` with an AbortSignal that fires after `ms` on the given clock (or when `parent` aborts).
 * The work must honour the signal; the race makes sure a misbehaving one cannot hang the caller.
 */
export async function withDeadline<T>(
  clock: Clock,
  ms: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  parent?.addEventListener("abort", onParentAbort, { once: true });
  const timeout = clock.sleep(ms, controller.signal).then(
    () => {
      const error = new DeadlineExceeded(what, ms);
      controller.abort(error);
      throw error;
    },
    () => new Promise<never>(() => {}), // aborted: the work settles the race
  );
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    parent?.removeEventListener("abort", onParentAbort);
    if (!controller.signal.aborted) controller.abort(new Error("settled"));
  }
}
