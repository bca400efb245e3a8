/**
 * The buffers that file bytes are read into before they go to S3 (a part, or a whole small file):
 * at most one per request slot, reused from request to request. An upload of many GiB then
 * allocates a handful of buffers, not one per part or per read, so V8's garbage collector and
 * copies into part-sized buffers (what lib-storage cost: ~0.7 s CPU per 300 MiB) are gone, and
 * memory stays at `limit` x the part size. Whoever takes one holds a request slot, so with `limit`
 * = the slots' capacity a free buffer (or room for one) always exists.
 */
export class PartBuffers {
  private readonly free: Buffer[] = [];
  /** Buffers in existence (free or taken): what the memory bound is about. */
  allocated = 0;

  constructor(
    readonly limit: number,
    /** Smallest buffer made: the usual part size, so a small file's buffer fits the next part. */
    readonly size: number,
  ) {}

  /** A buffer of at least `bytes` (use `subarray(0, bytes)`); give it back when the request is over. */
  take(bytes: number): Buffer {
    const fit = this.free.findIndex((b) => b.byteLength >= bytes);
    if (fit >= 0) return this.free.splice(fit, 1)[0]!;
    if (this.allocated >= this.limit) {
      // Only buffers too small for this request are free (a part size grown for a huge file): drop one.
      if (this.free.length === 0) throw new Error(`more than ${this.limit} part buffers requested: a request without a slot`);
      this.free.pop();
      this.allocated -= 1;
    }
    this.allocated += 1;
    // Never sent beyond the bytes read into it, so uninitialised memory never leaves the process.
    return Buffer.allocUnsafeSlow(Math.max(bytes, this.size));
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}
