import { createHash } from "node:crypto";
import { ChunkHasher, type ChunkedDigest } from "../../artifacts/chunks.js";
import type { S3Transfer, UploadedPart } from "../../aws/s3-transfer.js";
import type { Logger } from "../../core/log.js";
import type { Semaphore } from "../../core/semaphore.js";
import { grewPast, readFully, withFile, type LocalFileHandle, type OpenFile } from "./local-read.js";
import type { PartBuffers } from "./part-buffers.js";

/**
 * synkti's own multipart writer. Each part is read once, at its offset, straight into a pooled
 * buffer (part-buffers.ts), hashed there (the file's SHA-256 in order, and the part's own, which is
 * the manifest chunk's when parts are chunks) and sent as UploadPart with that SHA-256 as its
 * checksum: S3 checks the part against it, and the signer reuses it (src/aws/payload-hash.ts), so
 * every byte is hashed twice in all, on a buffer nobody copies. Parts are read in order and sent
 * concurrently: each takes one request slot, shared with the other files' requests (which file
 * goes when is the batch's call: file-batch.ts), and memory stays at one buffer per slot.
 *
 * `verify(digest)` runs when the last part has been read, before S3 is asked to assemble the
 * object: throwing (a file that changed since its hash was taken) aborts the upload, so nothing is
 * stored and an object already under the key stays as it was. CompleteMultipartUpload (and
 * `assembled`, the check after it) runs in the last part's slot. Any failure or abort (Ctrl-C)
 * waits for the parts in flight, then sends AbortMultipartUpload: no parts stay billed.
 */
export interface PartsContext {
  transfer: S3Transfer;
  log: Logger;
  slots: Semaphore;
  buffers: PartBuffers;
  open: OpenFile;
  /** Called once the last part holds its request slot (the batch then starts the next file). */
  dispatched?: () => void;
  signal?: AbortSignal;
  /** Cumulative bytes S3 acknowledged for this file. */
  onProgress?: (loaded: number) => void;
}

export interface PartsRequest {
  bucket: string;
  key: string;
  file: string;
  size: number;
  partSize: number;
  /** Chunk size of the digest returned; parts are the chunks when the two are equal. */
  chunkSize: number;
  metadata: Record<string, string>;
  contentType?: string;
  /** The bytes were shorter or longer than `size`: what to throw (the file changed). */
  changed: () => Error;
  verify?: (digest: ChunkedDigest) => void;
  /** Runs once S3 has assembled the object, still in the last part's request slot (a HEAD that checks it). */
  assembled?: (digest: ChunkedDigest) => Promise<void>;
}

export async function sendParts(ctx: PartsContext, req: PartsRequest): Promise<ChunkedDigest> {
  const upload = new PartsUpload(ctx, req);
  try {
    const digest = await upload.send();
    await req.assembled?.(digest);
    return digest;
  } finally {
    upload.close();
  }
}

/** One multipart upload's state: the parts sent, those in flight, the first failure. */
class PartsUpload {
  private readonly count: number;
  private readonly stop = new AbortController();
  private readonly hasher: ChunkHasher;
  private readonly sent: UploadedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private created: Promise<string> | undefined;
  private loaded = 0;
  /**
   * The last part's slot stays taken for CompleteMultipartUpload (and `assembled`): S3 assembles
   * the object as soon as every part is in, instead of that call queueing behind the next file.
   */
  private completeSlot: (() => void) | undefined;
  private readonly onOuterAbort = () => this.stop.abort(this.ctx.signal?.reason);

  constructor(
    private readonly ctx: PartsContext,
    private readonly req: PartsRequest,
  ) {
    this.count = Math.ceil(req.size / req.partSize);
    this.hasher = new ChunkHasher(req.chunkSize);
    ctx.signal?.addEventListener("abort", this.onOuterAbort, { once: true });
    if (ctx.signal?.aborted) this.stop.abort(ctx.signal.reason);
  }

  async send(): Promise<ChunkedDigest> {
    try {
      const digest = await withFile(this.ctx.open, this.req.file, (handle) => this.readAndSend(handle));
      await Promise.all(this.inFlight);
      if (this.failure) throw this.failure.error;
      await this.ctx.transfer.completeMultipartUpload(this.req.bucket, this.req.key, await this.created!, this.sent, this.stop.signal);
      return digest!;
    } catch (error) {
      return await this.abandon(error);
    }
  }

  close(): void {
    this.completeSlot?.();
    this.ctx.signal?.removeEventListener("abort", this.onOuterAbort);
  }

  /** Reads the parts in order, each into a pooled buffer under its own request slot, and sends it. */
  private async readAndSend(handle: LocalFileHandle): Promise<ChunkedDigest | undefined> {
    const { ctx, req } = this;
    let digest: ChunkedDigest | undefined;
    for (let n = 1; n <= this.count && !this.failure; n++) {
      const release = await ctx.slots.acquire(1, this.stop.signal);
      if (n === this.count) ctx.dispatched?.();
      const buffer = ctx.buffers.take(req.partSize);
      try {
        // The first part's slot carries CreateMultipartUpload first; reading overlaps it.
        this.created ??= this.create();
        const start = (n - 1) * req.partSize;
        const length = Math.min(req.partSize, req.size - start);
        if ((await readFully(handle, buffer, length, start, this.stop.signal)) !== length) throw req.changed();
        const body = buffer.subarray(0, length);
        this.hasher.update(body);
        if (n === this.count) {
          if (await grewPast(handle, req.size)) throw req.changed();
          digest = this.hasher.digest();
          req.verify?.(digest);
        }
        this.sendPart(n, body, partHash(this.hasher, body, n, req, digest), await this.created, () => {
          ctx.buffers.give(buffer);
          if (n < this.count) release();
        });
        if (n === this.count) this.completeSlot = release;
      } catch (error) {
        ctx.buffers.give(buffer);
        release();
        throw error;
      }
    }
    return digest;
  }

  private create(): Promise<string> {
    const { bucket, key, metadata, contentType } = this.req;
    const created = this.ctx.transfer.createMultipartUpload(bucket, key, { metadata, ...(contentType ? { contentType } : {}), signal: this.stop.signal });
    created.catch(() => undefined); // awaited later; a failure meanwhile is not an unhandled rejection
    return created;
  }

  private sendPart(partNumber: number, body: Buffer, sha256Hex: string, uploadId: string, done: () => void): void {
    const sending = this.ctx.transfer
      .uploadPart({ bucket: this.req.bucket, key: this.req.key, uploadId, partNumber, body, sha256Hex, signal: this.stop.signal })
      .then(
        (etag) => {
          this.sent.push({ partNumber, etag, sha256Hex });
          this.loaded += body.byteLength;
          this.ctx.onProgress?.(this.loaded);
        },
        (error: unknown) => this.fail(error),
      )
      .finally(() => {
        done();
        this.inFlight.delete(sending);
      });
    this.inFlight.add(sending);
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.stop.abort(error);
  }

  /** Stops everything, lets the parts on the wire end (one landing after the abort would be billed), aborts the upload. */
  private async abandon(error: unknown): Promise<never> {
    this.fail(error);
    await Promise.allSettled([...this.inFlight]);
    const uploadId = await this.created?.catch(() => undefined);
    if (uploadId !== undefined) {
      await this.ctx.transfer.abortIncompleteUpload(this.req.bucket, { key: this.req.key, uploadId }).catch((cleanup: unknown) => {
        this.ctx.log.warn({ err: cleanup, key: this.req.key }, "could not abort the multipart upload; the next run or the bucket lifecycle rule will");
      });
    }
    throw this.failure!.error;
  }
}

/** Part n's SHA-256: the chunk's, already computed, when parts are chunks; else its own pass. */
function partHash(hasher: ChunkHasher, body: Buffer, n: number, req: PartsRequest, digest: ChunkedDigest | undefined): string {
  if (req.partSize === req.chunkSize) {
    const chunk = hasher.finishedChunk(n - 1) ?? digest?.chunks[n - 1];
    if (chunk !== undefined) return chunk;
  }
  return createHash("sha256").update(body).digest("hex");
}
