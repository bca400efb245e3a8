import { createHash } from "node:crypto";
import { ChunkHasher, type ChunkedDigest } from "../../artifacts/chunks.js";
import type { S3Transfer, UploadedPart } from "../../aws/s3-transfer.js";
import type { Logger } from "../../core/log.js";
import type { Semaphore } from "../../core/semaphore.js";
import { grewPast, readFully, withFile, type OpenFile } from "./local-read.js";
import type { PartBuffers } from "./part-buffers.js";

/**
 * synkti's own multipart writer. Each part is read once, at its offset, straight into a pooled
 * buffer (part-buffers.ts), hashed there (the file's SHA-256 in order, and the part's own, which is
 * the manifest chunk's when parts are chunks) and sent as UploadPart with that SHA-256 as its
 * checksum: S3 checks the part against it, and the signer reuses it (src/aws/payload-hash.ts), so
 * every byte is hashed twice in all, on a buffer nobody copies. Parts are read in order and sent
 * concurrently: each takes one request slot, so parts of a big file and small files' PUTs share
 * the slots first come, first served, and memory stays at one buffer per slot.
 *
 * `verify(digest)` runs when the last part has been read, before S3 is asked to assemble the
 * object: throwing (a file that changed since its hash was taken) aborts the upload, so nothing is
 * stored and an object already under the key stays as it was. Any failure or abort (Ctrl-C) waits
 * for the parts in flight, then sends AbortMultipartUpload: no parts stay billed.
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
}

export async function sendParts(ctx: PartsContext, req: PartsRequest): Promise<ChunkedDigest> {
  const count = Math.ceil(req.size / req.partSize);
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (ctx.signal?.aborted) stop.abort(ctx.signal.reason);
  const signal = stop.signal;
  const hasher = new ChunkHasher(req.chunkSize);
  const sent: UploadedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort(error);
  };
  let created: Promise<string> | undefined;
  let digest: ChunkedDigest | undefined;
  let loaded = 0;

  try {
    await withFile(ctx.open, req.file, async (handle) => {
      for (let n = 1; n <= count && !failure; n++) {
        const release = await ctx.slots.acquire(1, signal);
        if (n === count) ctx.dispatched?.();
        const buffer = ctx.buffers.take(req.partSize);
        let handedOver = false;
        try {
          // The first part's slot carries CreateMultipartUpload first; reading overlaps it.
          if (!created) {
            created = ctx.transfer.createMultipartUpload(req.bucket, req.key, { metadata: req.metadata, ...(req.contentType ? { contentType: req.contentType } : {}), signal });
            created.catch(() => undefined); // awaited below; a failure meanwhile is not an unhandled rejection
          }
          const start = (n - 1) * req.partSize;
          const length = Math.min(req.partSize, req.size - start);
          if ((await readFully(handle, buffer, length, start, signal)) !== length) throw req.changed();
          const body = buffer.subarray(0, length);
          hasher.update(body);
          if (n === count) {
            if (await grewPast(handle, req.size)) throw req.changed();
            digest = hasher.digest();
            req.verify?.(digest);
          }
          const sha256Hex = partHash(hasher, body, n, req, digest);
          const uploadId = await created;
          const sending = ctx.transfer
            .uploadPart({ bucket: req.bucket, key: req.key, uploadId, partNumber: n, body, sha256Hex, signal })
            .then((etag) => {
              sent.push({ partNumber: n, etag, sha256Hex });
              loaded += length;
              ctx.onProgress?.(loaded);
            }, fail)
            .finally(() => {
              ctx.buffers.give(buffer);
              release();
              inFlight.delete(sending);
            });
          inFlight.add(sending);
          handedOver = true;
        } finally {
          if (!handedOver) {
            ctx.buffers.give(buffer);
            release();
          }
        }
      }
    });
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    const uploadId = await created!;
    const release = await ctx.slots.acquire(1, signal);
    try {
      await ctx.transfer.completeMultipartUpload(req.bucket, req.key, uploadId, sent, signal);
    } finally {
      release();
    }
    return digest!;
  } catch (error) {
    fail(error);
    // Parts still on the wire could land after an abort and be billed: let them end first.
    await Promise.allSettled([...inFlight]);
    const uploadId = await created?.catch(() => undefined);
    if (uploadId !== undefined) {
      await ctx.transfer.abortIncompleteUpload(req.bucket, { key: req.key, uploadId }).catch((cleanup: unknown) => {
        ctx.log.warn({ err: cleanup, key: req.key }, "could not abort the multipart upload; the next run or the bucket lifecycle rule will");
      });
    }
    throw failure!.error;
  } finally {
    ctx.signal?.removeEventListener("abort", onOuterAbort);
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
