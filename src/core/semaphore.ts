/**
 * A weighted FIFO semaphore: `--concurrency N` bounds the S3 requests in flight across all files.
 * A small file takes 1 slot (one PUT); a big file takes up to N (its parts go in parallel), so a
 * big upload and the hashing of the next file overlap without ever exceeding N requests, and
 * memory stays near N x partSize. FIFO so a big file is not starved by a stream of small ones.
 */
export class Semaphore {
  private available: number;
  private readonly waiting: Array<{ weight: number; grant: () => void; fail: (reason: unknown) => void }> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
    this.available = capacity;
  }

  /** Waits for `weight` slots (capped at capacity) and returns the function that gives them back. */
  async acquire(weight: number, signal?: AbortSignal): Promise<() => void> {
    const take = Math.max(1, Math.min(this.capacity, Math.floor(weight)));
    signal?.throwIfAborted();
    if (this.waiting.length === 0 && this.available >= take) {
      this.available -= take;
      return this.releaser(take);
    }
    await new Promise<void>((grant, fail) => {
      const waiter = { weight: take, grant, fail };
      this.waiting.push(waiter);
      signal?.addEventListener(
        "abort",
        () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) {
            this.waiting.splice(index, 1);
            fail(signal.reason);
            this.pump(); // the head may have been blocking smaller waiters behind it
          }
        },
        { once: true },
      );
    });
    return this.releaser(take);
  }

  private releaser(weight: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.available += weight;
      this.pump();
    };
  }

  private pump(): void {
    for (let head = this.waiting[0]; head && head.weight <= this.available; head = this.waiting[0]) {
      this.waiting.shift();
      this.available -= head.weight;
      head.grant();
    }
  }
}
