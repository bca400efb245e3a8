import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import type { S3Transfer } from "../../aws/s3-transfer.js";
import { SynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { HashingPassThrough } from "../../artifacts/hash.js";
import { partSizeFor } from "./plan.js";
import type { Semaphore } from "../../core/semaphore.js";

/**
 * Uploads one local file whose SHA-256 is already known, holding as many request slots as it has
 * parts in flight. The bytes are hashed again on their way out: if the file changed after it was
 * hashed, the object's `sha256` metadata would lie, so the object is deleted and the run fails.
 */
export interface PutFileRequest {
  bucket: string;
  key: string;
  file: string;
  size: number;
  sha256: string;
  metadata: Record<string, string>;
  contentType?: string;
}

export interface PutFileContext {
  transfer: S3Transfer;
  log: Logger;
  slots: Semaphore;
  partSize?: number;
  signal?: AbortSignal;
  onProgress?: (loaded: number) => void;
}

export async function putFile(ctx: PutFileContext, req: PutFileRequest): Promise<void> {
  const partSize = partSizeFor(req.size, ctx.partSize);
  const parts = Math.max(1, Math.ceil(req.size / partSize));
  const release = await ctx.slots.acquire(parts, ctx.signal);
  const hasher = new HashingPassThrough();
  try {
    const source = createReadStream(req.file, { highWaterMark: 1 << 20, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    // pipeline destroys both streams on error; the upload sees the error as a failed body read.
    pipeline(source, hasher, () => {});
    await ctx.transfer.uploadStream({
      bucket: req.bucket,
      key: req.key,
      body: hasher,
      size: req.size,
      metadata: req.metadata,
      ...(req.contentType ? { contentType: req.contentType } : {}),
      sha256Hex: req.sha256,
      partSize,
      queueSize: Math.min(parts, ctx.slots.capacity),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
    });
  } finally {
    hasher.destroy();
    release();
  }
  const sent = hasher.result();
  if (sent.sha256 !== req.sha256 || sent.size !== req.size) {
    await ctx.transfer.deleteObject(req.bucket, req.key);
    throw new SynktiError(`${req.file} changed while it was being uploaded (SHA-256 or size differs from a moment ago); the partial object was deleted.`, {
      code: "file-changed-during-upload",
      kind: "unsafe",
      remedy: "wait until whatever writes the file has finished, then run the same upload command again",
    });
  }
  ctx.log.debug({ key: req.key, size: req.size, parts }, "uploaded");
}
