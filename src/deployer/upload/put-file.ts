import { createHash } from "node:crypto";
import { ChunkHasher, type ChunkedDigest } from "../../artifacts/chunks.js";
import type { S3Transfer } from "../../aws/s3-transfer.js";
import { checksumVerdict } from "../../artifacts/s3-checksum.js";
import { SynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { Semaphore } from "../../core/semaphore.js";
import { grewPast, openFile, readFully, withFile, type OpenFile } from "./local-read.js";
import { sendParts } from "./multipart.js";
import type { PartBuffers } from "./part-buffers.js";
import { partSizeFor } from "./plan.js";

/**
 * Uploads one local file, reading it once: its SHA-256 (whole and per chunk) is computed from the
 * bytes on their way to S3. When the hash is known beforehand (the hash cache, or a file hashed to
 * decide a skip) it goes up as the object's `sha256` metadata and the bytes read are checked against
 * it before S3 stores anything: a file that changed in between would make the metadata lie, so the
 * run fails and the key keeps what it held. When it is not known, `putFileHashing` relies on S3's
 * own checksum instead.
 */
export interface PutFileRequest {
  bucket: string;
  key: string;
  file: string;
  size: number;
  /** Known before the upload: sent as metadata by the caller, and checked against the bytes read. */
  sha256?: string;
  metadata: Record<string, string>;
  contentType?: string;
  /** Chunk size of the per-chunk hashes returned (manifest version 2); default: the part size. */
  chunkSize?: number;
}

export interface PutFileContext {
  transfer: S3Transfer;
  log: Logger;
  /** Requests in flight: a single PUT or each part takes one. */
  slots: Semaphore;
  /** What bytes are read into: one buffer per slot at most (part-buffers.ts). */
  buffers: PartBuffers;
  partSize?: number;
  /**
   * Called once this file's last request (its PUT, or its last part) holds a request slot: the
   * batch starts the next file then, so files go up one after the other, largest first.
   */
  dispatched?: () => void;
  signal?: AbortSignal;
  onProgress?: (loaded: number) => void;
  /** How local files are opened (default: the file system); tests count the bytes read. */
  open?: OpenFile;
}

type Metadata = (sha256: string) => Record<string, string>;

/** One PUT when the file fits one part, else a multipart upload; returns the digest of the bytes sent. */
export async function putFile(ctx: PutFileContext, req: PutFileRequest): Promise<ChunkedDigest> {
  const partSize = partSizeFor(req.size, ctx.partSize);
  const verify = (digest: ChunkedDigest) => {
    if (req.sha256 !== undefined && digest.sha256 !== req.sha256) throw changedWhileUploading(req.file);
  };
  const sent =
    req.size <= partSize
      ? await putWhole(ctx, req, partSize, () => req.metadata, verify)
      : await sendParts(context(ctx), {
          ...partsOf(req, partSize),
          metadata: req.metadata,
          verify,
        });
  ctx.log.debug({ key: req.key, size: req.size, parts: Math.max(1, Math.ceil(req.size / partSize)) }, "uploaded");
  return sent;
}

/**
 * Uploads a file whose hash is not known yet, still reading it once; `metadata(sha256)` is what the
 * object carries when the hash is known in time. S3 fixes metadata before the first byte, so:
 * - a file of one part is read into memory (a pooled buffer of one part), hashed, then sent in one
 *   PUT with its `sha256` metadata and its SHA-256 checksum, which S3 verifies;
 * - a larger one goes up while hashed, as a multipart upload without that metadata: each part
 *   carries its SHA-256 (S3 checks it on arrival) and S3 keeps their composite, which vouches for
 *   the object instead (s3-checksum.ts). With parts of one manifest chunk each (the caller's part
 *   size), a HEAD then proves S3 assembled exactly the chunks that were hashed.
 */
export async function putFileHashing(ctx: PutFileContext, req: Omit<PutFileRequest, "sha256" | "metadata"> & { metadata: Metadata }): Promise<ChunkedDigest> {
  const partSize = partSizeFor(req.size, ctx.partSize);
  if (req.size <= partSize) return putWhole(ctx, req, partSize, req.metadata);
  return sendParts(context(ctx), { ...partsOf(req, partSize), metadata: {}, assembled: (sent) => checkAssembled(ctx, req, sent) });
}

/** A HEAD after the upload: S3's composite checksum must be that of the chunks hashed. */
async function checkAssembled(ctx: PutFileContext, req: { bucket: string; key: string; file: string }, sent: ChunkedDigest): Promise<void> {
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
}

const context = (ctx: PutFileContext) => ({ ...ctx, open: ctx.open ?? openFile });

const partsOf = (req: Omit<PutFileRequest, "metadata">, partSize: number) => ({
  bucket: req.bucket,
  key: req.key,
  file: req.file,
  size: req.size,
  partSize,
  chunkSize: req.chunkSize ?? partSize,
  ...(req.contentType ? { contentType: req.contentType } : {}),
  changed: () => changedWhileUploading(req.file),
});

/**
 * A file of one part: read into a pooled buffer under one request slot, hashed, checked, then sent
 * in one PUT (through the transfer client: a slow uplink may take long over 16 MiB).
 */
async function putWhole(
  ctx: PutFileContext,
  req: Omit<PutFileRequest, "metadata">,
  partSize: number,
  metadata: Metadata,
  verify?: (digest: ChunkedDigest) => void,
): Promise<ChunkedDigest> {
  const release = await ctx.slots.acquire(1, ctx.signal);
  ctx.dispatched?.();
  const buffer = ctx.buffers.take(req.size);
  try {
    const body = await withFile(ctx.open ?? openFile, req.file, async (handle) => {
      const read = await readFully(handle, buffer, req.size, 0, ctx.signal);
      if (read !== req.size || (await grewPast(handle, req.size))) throw changedWhileUploading(req.file);
      return buffer.subarray(0, read);
    });
    const digest = digestOfBytes(body, req.chunkSize ?? partSize);
    verify?.(digest);
    await ctx.transfer.putBytes(req.bucket, req.key, body, {
      metadata: metadata(digest.sha256),
      ...(req.contentType ? { contentType: req.contentType } : {}),
      sha256Hex: digest.sha256,
      large: true,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    ctx.onProgress?.(req.size);
    return digest;
  } finally {
    ctx.buffers.give(buffer);
    release();
  }
}

/** A file of at most one chunk is its own only chunk: one SHA-256 pass, not two. */
function digestOfBytes(bytes: Buffer, chunkSize: number): ChunkedDigest {
  if (bytes.byteLength > chunkSize) return new ChunkHasher(chunkSize).update(bytes).digest();
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { size: bytes.byteLength, sha256, chunks: bytes.byteLength > 0 ? [sha256] : [] };
}

function changedWhileUploading(file: string): SynktiError {
  return new SynktiError(`${file} changed while it was being uploaded (SHA-256 or size differs from a moment ago); nothing of it was stored in S3.`, {
    code: "file-changed-during-upload",
    kind: "unsafe",
    remedy: "wait until whatever writes the file has finished, then run the same upload command again",
  });
}
