import type { Clock } from "./clock.js";

/**
 * The one polling loop (deployer and infra): check now, then again every `intervalMs` (growing by half
 * up to `maxIntervalMs`, so a slow AWS transition costs few calls) until `check` returns a value,
 * the deadline passes (returns `{ done: false }` with the last observation), or `signal` aborts
 * (rejects with its reason). Time comes from the injected clock, so tests use a fake one.
 */
export interface PollOptions {
  clock: Clock;
  deadlineMs: number;
  intervalMs?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

export type PollStep<T, O> = { done: true; value: T } | { done: false; observed: O };

export async function pollUntil<T, O>(options: PollOptions, check: () => Promise<PollStep<T, O>>): Promise<PollStep<T, O>> {
  const { clock, signal } = options;
  const deadline = clock.now() + options.deadlineMs;
  let interval = options.intervalMs ?? 1000;
  for (;;) {
    signal?.throwIfAborted();
    const step = await check();
    if (step.done) return step;
    const left = deadline - clock.now();
    if (left <= 0) return step;
    await clock.sleep(Math.min(interval, left), signal);
    interval = Math.min(Math.ceil(interval * 1.5), options.maxIntervalMs ?? 5000);
  }
}
