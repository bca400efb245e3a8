import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { messageOf } from "../../core/errors.js";

export interface LatestWriterOptions {
  /** What is written, for the log ("state tags", "boot log"). */
  what: string;
  /** After a failed write, try again this often (throttling, a fresh instance id not yet known). */
  retryMs: number;
  /** While closing, retries come this often instead (the agent is about to exit). */
  closingRetryMs?: number;
}

/**
 * Keeps one thing in AWS (a worker's tags on itself, its log in S3) equal to the latest value the
 * agent holds, without ever blocking or failing the agent:
 * - `set` returns at once; the write happens in the background, and an error is logged, never thrown;
 * - one write at a time, so writes land in the order they were made;
 * - a failed write is retried every `retryMs` with the value that is latest *then*: an older value
 *   can never land after a newer one (the failed one is not sent again once it is stale);
 * - values set while a write is in flight, or in the same tick, coalesce into one next write.
 * `close` gives the last value a bounded chance to land (a stopping agent) and then stops.
 */
export class LatestWriter<T> {
  private latest: T | undefined;
  private seq = 0;
  private landedSeq = 0;
  private running = false;
  private closing = false;
  private failing = false;
  private readonly stop = new AbortController();
  /** Aborted by `close` to cut a retry's long wait short. */
  private readonly wake = new AbortController();
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly deps: { clock: Clock; log: Logger },
    private readonly write: (value: T, signal: AbortSignal) => Promise<void>,
    private readonly options: LatestWriterOptions,
  ) {}

  set(value: T): void {
    if (this.stop.signal.aborted) return;
    this.latest = value;
    this.seq += 1;
    if (!this.running) {
      this.running = true;
      void this.drain();
    }
  }

  /** True once the latest value set so far has landed (also when nothing was ever set). */
  get settled(): boolean {
    return this.landedSeq === this.seq;
  }

  /** Waits until everything set so far has landed, at most `timeoutMs`; true if it did. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.settled) return true;
    const timer = new AbortController();
    let done!: () => void;
    const landed = new Promise<boolean>((resolve) => (done = () => resolve(true)));
    const check = () => this.settled && done();
    this.waiters.add(check);
    try {
      return await Promise.race([
        landed,
        this.deps.clock.sleep(timeoutMs, timer.signal).then(() => this.settled, () => this.settled),
      ]);
    } finally {
      this.waiters.delete(check);
      timer.abort();
    }
  }

  /** Gives what was set up to `graceMs` to land (retrying faster), then stops writing for good. */
  async close(graceMs: number): Promise<boolean> {
    this.closing = true;
    this.wake.abort();
    const landed = await this.flush(graceMs);
    this.stop.abort(new Error(`${this.options.what}: closed`));
    return landed;
  }

  private async drain(): Promise<void> {
    // One turn first: values set in the same tick (endpoint and state at start) make one write.
    await Promise.resolve();
    while (this.landedSeq < this.seq && !this.stop.signal.aborted) {
      const seq = this.seq;
      try {
        await this.write(this.latest as T, this.stop.signal);
        this.landedSeq = seq;
        if (this.failing) this.deps.log.info({ what: this.options.what }, `${this.options.what}: written again`);
        this.failing = false;
        for (const waiter of [...this.waiters]) waiter();
      } catch (error) {
        if (this.stop.signal.aborted) break;
        const detail = messageOf(error);
        const retryMs = this.closing ? Math.min(this.options.retryMs, this.options.closingRetryMs ?? 1000) : this.options.retryMs;
        // Once when it starts failing, quietly after that: a long outage must not flood the log.
        if (this.failing) this.deps.log.debug({ what: this.options.what, error: detail, retryMs }, `${this.options.what}: still failing`);
        else this.deps.log.warn({ what: this.options.what, error: detail, retryMs }, `could not write the ${this.options.what}; retrying with the latest value`);
        this.failing = true;
        // While closing, `wake` is already aborted: only `stop` may cut the short wait.
        await this.deps.clock.sleep(retryMs, this.closing ? this.stop.signal : AbortSignal.any([this.stop.signal, this.wake.signal])).catch(() => {});
      }
    }
    this.running = false;
  }
}
