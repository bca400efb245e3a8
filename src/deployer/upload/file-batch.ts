import type { S3Transfer } from "../../aws/s3-transfer.js";
import type { Logger } from "../../core/log.js";
import { chunkedDigestOfFile, CHUNK_SIZE, type ChunkedDigest } from "../../artifacts/chunks.js";
import { localFileError, type LocalFile } from "./local-files.js";
import { METADATA_SHA256 } from "../../artifacts/deps.js";
import { decide, type FileDecision, type LocalDigest, type RemoteHead } from "./plan.js";
import type { ProgressReporter } from "./progress.js";
import { putFile } from "./put-file.js";
import { Semaphore } from "../../core/semaphore.js";

/**
 * Hash, compare and upload a set of files under one prefix. Every file runs as its own task; what
 * bounds the work is two semaphores: disk (two files hashed at once) and S3 requests (`concurrency`
 * slots shared by HEADs, single PUTs and multipart parts). So file N+1 is hashed while file N is
 * uploading, and the first failure stops every other task (fail fast; the caller cleans up).
 */
export interface BatchContext {
  transfer: S3Transfer;
  log: Logger;
  concurrency: number;
  partSize?: number;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Awaited once, before the first byte changes in S3 (the model uploader drops its manifest). */
  beforeFirstUpload?: () => Promise<void>;
  /**
   * When given, every file is hashed and compared first and `review` sees the whole plan before
   * any byte changes in S3; throwing refuses the batch with nothing written. Without it, file N+1
   * is hashed while file N uploads (the faster pipeline).
   */
  review?: (planned: PlannedFile[]) => void | Promise<void>;
}

/** One file, hashed and compared with its object in S3: what the batch is about to do with it. */
export interface PlannedFile {
  file: LocalFile;
  /** With the per-chunk hashes manifest version 2 lists (from the same single read). */
  local: LocalDigest & Pick<ChunkedDigest, "chunks">;
  remote: RemoteHead | undefined;
  decision: FileDecision;
}

export interface FileOutcome {
  path: string;
  size: number;
  sha256: string;
  chunks: string[];
  how: "uploaded" | "skipped";
}

const HASH_CONCURRENCY = 2;

export async function uploadFiles(ctx: BatchContext, batch: { bucket: string; prefix: string; files: LocalFile[] }): Promise<FileOutcome[]> {
  const slots = new Semaphore(ctx.concurrency);
  const disk = new Semaphore(HASH_CONCURRENCY);
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (ctx.signal?.aborted) stop.abort(ctx.signal.reason);
  const signal = stop.signal;
  // On a TTY the bar shows per-file progress, and log lines would tear it: keep them at debug.
  const note = (fields: object, message: string) => (ctx.progress ? ctx.log.debug(fields, message) : ctx.log.info(fields, message));
  let firstError: unknown;
  let prepared: Promise<void> | undefined; // beforeFirstUpload runs once, every uploader awaits it

  const plan = async (file: LocalFile): Promise<PlannedFile> => {
    const key = `${batch.prefix}${file.path}`;
    const releaseDisk = await disk.acquire(1, signal);
    const local = await chunkedDigestOfFile(file.absolutePath, CHUNK_SIZE, signal)
      .catch((error: unknown) => Promise.reject(localFileError(error, file.absolutePath)))
      .finally(releaseDisk);
    const releaseSlot = await slots.acquire(1, signal);
    const remote = await ctx.transfer.head(batch.bucket, key, signal).finally(releaseSlot);
    return { file, local, remote, decision: decide(local, remote) };
  };

  const apply = async ({ file, local, decision }: PlannedFile): Promise<FileOutcome> => {
    const key = `${batch.prefix}${file.path}`;
    if (decision.action === "skip") {
      note({ key }, "already in S3 with the same SHA-256: skipped");
      ctx.progress?.fileDone(file.path, local.size, "skipped");
      return { path: file.path, ...local, how: "skipped" };
    }
    await (prepared ??= ctx.beforeFirstUpload?.() ?? Promise.resolve());
    note({ key, size: local.size, reason: decision.reason }, "uploading");
    await putFile(
      {
        transfer: ctx.transfer,
        log: ctx.log,
        slots,
        ...(ctx.partSize ? { partSize: ctx.partSize } : {}),
        signal,
        onProgress: (loaded) => ctx.progress?.fileProgress(file.path, loaded),
      },
      { bucket: batch.bucket, key, file: file.absolutePath, size: local.size, sha256: local.sha256, metadata: { [METADATA_SHA256]: local.sha256 } },
    );
    ctx.progress?.fileDone(file.path, local.size, "uploaded");
    note({ key, size: local.size }, "uploaded");
    return { path: file.path, ...local, how: "uploaded" };
  };

  const failFast = (error: unknown) => {
    if (!signal.aborted) {
      firstError = error;
      stop.abort(error);
    }
    return undefined;
  };
  const settle = async <T>(work: Array<Promise<T>>): Promise<T[]> => {
    const settled = await Promise.all(work.map((w) => w.catch(failFast)));
    if (ctx.signal?.aborted) throw ctx.signal.reason ?? new Error("aborted");
    if (firstError !== undefined) throw firstError;
    return settled.filter((o): o is Awaited<T> => o !== undefined);
  };

  ctx.progress?.begin(batch.files.length, batch.files.reduce((sum, f) => sum + f.size, 0));
  try {
    if (ctx.review) {
      const planned = await settle(batch.files.map(plan));
      await ctx.review(planned);
      return await settle(planned.map(apply));
    }
    return await settle(batch.files.map((file) => plan(file).then(apply)));
  } finally {
    ctx.signal?.removeEventListener("abort", onOuterAbort);
    ctx.progress?.end();
  }
}
