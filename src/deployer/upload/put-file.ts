import { createReadStream } from "node:fs";
import { pipeline, Readable } from "node:stream";
import { ChunkHasher, ChunkHashingPassThrough, CHUNK_SIZE, type ChunkedDigest } from "../../artifacts/chunks.js";
import type { S3Transfer } from "../../aws/s3-transfer.js";
import { checksumVerdict } from "../../artifacts/s3-checksum.js";
import { SynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { partSizeFor } from "./plan.js";
import type { Semaphore } from "../../core/semaphore.js";

/**
 * Uploads one local file, reading it once: its SHA-256 (whole and per chunk) is computed from the
 * bytes on their way to S3. When the hash is known beforehand (the hash cache, or a file hashed to
 * decide a skip) it goes up as the object's `sha256` metadata and the bytes sent are checked against
 * it: a file that changed in between would make the metadata lie, so that object is deleted and the
 * run fails. When it is not known, `putFileHashing` relies on S3's own checksum instead.
 */
export interface PutFileRequest {
  bucket: string;
  key: string;
  file: string;
  size: number;
  /** Known before the upload: sent as metadata by the caller, and checked against the bytes sent. */
  sha256?: string;
  metadata: Record<string, string>;
  contentType?: string;
  /** Chunk size of the per-chunk hashes returned (manifest version 2). */
  chunkSize?: number;
}

/** Opens a file for one sequential read: the only way this module reads local bytes (tests count them). */
export type OpenRead = (file: string, signal?: AbortSignal) => Readable;
export const openRead: OpenRead = (file, signal) => createReadStream(file, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) });

export interface PutFileContext {
  transfer: S3Transfer;
  log: Logger;
  slots: Semaphore;
  partSize?: number;
  signal?: AbortSignal;
  onProgress?: (loaded: number) => void;
  open?: OpenRead;
}

/** Streams the file to S3 through a hasher; returns the digest of the bytes sent. */
export async function putFile(ctx: PutFileContext, req: PutFileRequest): Promise<ChunkedDigest> {
  const partSize = partSizeFor(req.size, ctx.partSize);
  const parts = Math.max(1, Math.ceil(req.size / partSize));
  const release = await ctx.slots.acquire(parts, ctx.signal);
  const hasher = new ChunkHashingPassThrough(req.chunkSize ?? CHUNK_SIZE);
  try {
    const source = (ctx.open ?? openRead)(req.file, ctx.signal);
    // pipeline destroys both streams on error; the upload sees the error as a failed body read.
    pipeline(source, hasher, () => {});
    await ctx.transfer.uploadStream({
      bucket: req.bucket,
      key: req.key,
      body: hasher,
      size: req.size,
      metadata: req.metadata,
      ...(req.contentType ? { contentType: req.contentType } : {}),
      ...(req.sha256 ? { sha256Hex: req.sha256 } : {}),
      partSize,
      // Part N is chunk N when they are the same size: its hash is complete before the part is sent.
      ...(partSize === hasher.hasher.chunkSize ? { partSha256: (n: number) => hasher.hasher.finishedChunk(n - 1) } : {}),
      queueSize: Math.min(parts, ctx.slots.capacity),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
    });
  } finally {
    hasher.destroy();
    release();
  }
  const sent = hasher.result();
  if (sent.size !== req.size || (req.sha256 !== undefined && sent.sha256 !== req.sha256)) {
    await ctx.transfer.deleteObject(req.bucket, req.key);
    throw changedWhileUploading(req.file, true);
  }
  ctx.log.debug({ key: req.key, size: req.size, parts }, "uploaded");
  return sent;
}

/**
 * Uploads a file whose hash is not known yet, still reading it once; `metadata(sha256)` is what the
 * object carries when the hash is known in time. S3 fixes metadata before the first byte, so:
 * - a file of one part is read into memory (at most the part size, per request slot), hashed, then
 *   sent in one PUT with its `sha256` metadata and its SHA-256 checksum, which S3 verifies;
 * - a larger one is streamed while hashed, as a multipart upload without that metadata: each part
 *   carries its SHA-256 (S3 checks it on arrival) and S3 keeps their composite, which vouches for
 *   the object instead (s3-checksum.ts). With parts of one manifest chunk each (the caller's part
 *   size), a HEAD then proves S3 assembled exactly the chunks that were hashed.
 */
export async function putFileHashing(
  ctx: PutFileContext,
  req: Omit<PutFileRequest, "sha256" | "metadata"> & { metadata: (sha256: string) => Record<string, string> },
): Promise<ChunkedDigest> {
  const chunkSize = req.chunkSize ?? CHUNK_SIZE;
  if (req.size <= partSizeFor(req.size, ctx.partSize)) {
    const release = await ctx.slots.acquire(1, ctx.signal);
    try {
      const bytes = await readAll((ctx.open ?? openRead)(req.file, ctx.signal));
      if (bytes.byteLength !== req.size) throw changedWhileUploading(req.file, false);
      const digest = new ChunkHasher(chunkSize).update(bytes).digest();
      // Through the transfer client (idle deadline only: a slow uplink may take long over 16 MiB).
      await ctx.transfer.uploadStream({
        bucket: req.bucket,
        key: req.key,
        body: Readable.from([bytes]),
        size: req.size,
        metadata: req.metadata(digest.sha256),
        ...(req.contentType ? { contentType: req.contentType } : {}),
        sha256Hex: digest.sha256,
        partSize: partSizeFor(req.size, ctx.partSize),
        queueSize: 1,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
      });
      return digest;
    } finally {
      release();
    }
  }
  const { metadata: _metadata, ...rest } = req;
  const sent = await putFile(ctx, { ...rest, metadata: {} });
  const head = await ctx.transfer.head(req.bucket, req.key, ctx.signal);
  const verdict = head ? checksumVerdict(head, sent) : "different";
  if (verdict === "different") {
    await ctx.transfer.deleteObject(req.bucket, req.key);
    throw new SynktiError(`s3://${req.bucket}/${req.key} is not what was sent from ${req.file}: S3's SHA-256 checksum of it differs from the hashes of the bytes sent; the object was deleted.`, {
      code: "upload-corrupted",
      kind: "unobservable",
      fault: "aws",
      remedy: "run the same upload command again (files already in S3 are skipped)",
    });
  }
  if (verdict === "unknown") ctx.log.warn({ key: req.key }, "S3 reported no SHA-256 checksum of the parts for this object: nothing vouches for its bytes");
  return sent;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function changedWhileUploading(file: string, deleted: boolean): SynktiError {
  const after = deleted ? "; the partial object was deleted" : "; nothing was sent";
  return new SynktiError(`${file} changed while it was being uploaded (SHA-256 or size differs from a moment ago)${after}.`, {
    code: "file-changed-during-upload",
    kind: "unsafe",
    remedy: "wait until whatever writes the file has finished, then run the same upload command again",
  });
}
