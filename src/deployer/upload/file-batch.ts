import { stat } from "node:fs/promises";
import type { S3Transfer } from "../../aws/s3-transfer.js";
import type { Logger } from "../../core/log.js";
import { CHUNK_SIZE, type ChunkedDigest } from "../../artifacts/chunks.js";
import { localFileError, type LocalFile } from "./local-files.js";
import { METADATA_SHA256 } from "../../artifacts/deps.js";
import { decide, decideBySize, type FileDecision, type LocalDigest, type RemoteHead } from "./plan.js";
import type { ProgressReporter } from "./progress.js";
import { putFile, putFileHashing } from "./put-file.js";
import { digestOfFile, openFile, type OpenFile } from "./local-read.js";
import { PartBuffers } from "./part-buffers.js";
import { identityOf, noHashCache, type FileIdentity, type HashCache } from "./hash-cache.js";
import { Semaphore } from "../../core/semaphore.js";

/**
 * Compare and upload a set of files under one prefix, reading each file once. Every file runs as
 * its own task: its object in S3 first (one listing for all, a HEAD where the sizes agree); then
 * the file's hash comes from the hash cache (unchanged since it
 * was last hashed: no read at all), or from reading it before sending only when S3 holds an object
 * of the same size (the bytes may already be there: a skip then costs one read and no upload), or
 * else from the upload itself, hashed while sent. What bounds the work is two semaphores: disk (two
 * files hashed ahead at once) and S3 requests (`concurrency` slots shared by HEADs, single PUTs and
 * multipart parts, each request holding one slot and one part buffer). Files are sent largest
 * first (see largestFirst). The first failure stops every other task (fail fast; the caller cleans
 * up).
 */
export interface BatchContext {
  transfer: S3Transfer;
  log: Logger;
  concurrency: number;
  /**
   * The manifest's chunk size (default 16 MiB), which is also the part size of every multipart
   * upload: each part is then one chunk, and S3's composite checksum of the object is checked
   * against the chunk hashes (s3-checksum.ts). Memory: `concurrency` buffers of this size at most.
   */
  chunkSize?: number;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Remembers local files' hashes across runs (default: remembers nothing). */
  hashCache?: HashCache;
  /** How local files are opened for reading (default: the file system); tests count the bytes read. */
  open?: OpenFile;
  /** Awaited once, before the first byte changes in S3 (the model uploader drops its manifest). */
  beforeFirstUpload?: () => Promise<void>;
  /**
   * When given, every file is compared first and `review` sees the whole plan before any byte
   * changes in S3; throwing refuses the batch with nothing written. Files S3 holds at the same size
   * are hashed for it (the only ones whose bytes might be kept); the others are new or changed anyway.
   */
  review?: (planned: PlannedFile[]) => void | Promise<void>;
}

/** One file compared with its object in S3: what the batch is about to do with it. */
export interface PlannedFile {
  file: LocalFile;
  /**
   * The file's digest when known before sending (hash cache, or hashed to decide a skip), with the
   * per-chunk hashes manifest version 2 lists; undefined when it will be hashed while sent.
   */
  local: (LocalDigest & Pick<ChunkedDigest, "chunks">) | undefined;
  identity: FileIdentity;
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
  const turns = largestFirst(batch.files);
  const buffers = new PartBuffers(ctx.concurrency, ctx.chunkSize ?? CHUNK_SIZE);
  const disk = new Semaphore(HASH_CONCURRENCY);
  const cache = ctx.hashCache ?? noHashCache;
  const chunkSize = ctx.chunkSize ?? CHUNK_SIZE;
  const open = ctx.open ?? openFile;
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (ctx.signal?.aborted) stop.abort(ctx.signal.reason);
  const signal = stop.signal;
  const stopped = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  stopped.catch(() => undefined); // only ever raced against
  // On a TTY the bar shows per-file progress, and log lines would tear it: keep them at debug.
  const note = (fields: object, message: string) => (ctx.progress ? ctx.log.debug(fields, message) : ctx.log.info(fields, message));
  let firstError: unknown;
  let prepared: Promise<void> | undefined; // beforeFirstUpload runs once, every uploader awaits it

  const hashNow = async (file: LocalFile, identity: FileIdentity): Promise<ChunkedDigest> => {
    const releaseDisk = await disk.acquire(1, signal);
    try {
      const digest = await digestOfFile(open, file.absolutePath, chunkSize, signal).catch((error: unknown) => Promise.reject(localFileError(error, file.absolutePath)));
      cache.put(file.absolutePath, identity, chunkSize, digest);
      return digest;
    } finally {
      releaseDisk();
    }
  };

  const withSlot = async <T>(work: () => Promise<T>): Promise<T> => {
    const release = await slots.acquire(1, signal);
    try {
      return await work();
    } finally {
      release();
    }
  };
  // One listing of the prefix answers for every file S3 does not hold at the same size (new or
  // resized: sent anyway); only an object of the same size needs a HEAD, whose metadata and
  // checksum decide a skip. A first upload then makes one request where it made one per file.
  let listing: Promise<Map<string, number>> | undefined;
  const remoteOf = async (key: string, size: number): Promise<RemoteHead | undefined> => {
    const listed = (await (listing ??= withSlot(() => ctx.transfer.listSizes(batch.bucket, batch.prefix, signal)))).get(key);
    if (listed === undefined) return undefined;
    if (listed !== size) return { size: listed, metadata: {} };
    return withSlot(() => ctx.transfer.head(batch.bucket, key, signal));
  };

  const plan = async (file: LocalFile): Promise<PlannedFile> => {
    const key = `${batch.prefix}${file.path}`;
    const identity = identityOf(await stat(file.absolutePath).catch((error: unknown) => Promise.reject(localFileError(error, file.absolutePath))));
    const remote = await remoteOf(key, identity.size);
    const bySize = decideBySize(identity.size, remote);
    const remembered = cache.get(file.absolutePath, identity, chunkSize);
    const local = remembered ?? (bySize ? undefined : await hashNow(file, identity));
    return { file, local, identity, remote, decision: local ? decide(local, remote) : bySize! };
  };

  const apply = async (planned: PlannedFile): Promise<FileOutcome> => {
    const turn = turns.get(planned.file)!;
    try {
      await Promise.race([turn.ready, stopped]); // a file before this one may have failed before its turn
      return await send(planned, turn);
    } finally {
      turn.pass(); // also when skipped or failed: the next file's turn
    }
  };

  const send = async ({ file, local, identity, decision }: PlannedFile, turn: Turn): Promise<FileOutcome> => {
    const key = `${batch.prefix}${file.path}`;
    if (decision.action === "skip" && local) {
      note({ key }, "already in S3 with the same SHA-256: skipped");
      ctx.progress?.fileDone(file.path, local.size, "skipped");
      return { path: file.path, ...local, how: "skipped" };
    }
    await (prepared ??= ctx.beforeFirstUpload?.() ?? Promise.resolve());
    note({ key, size: identity.size, reason: decision.action === "upload" ? decision.reason : undefined }, "uploading");
    const put = {
      transfer: ctx.transfer,
      log: ctx.log,
      slots,
      buffers,
      open,
      partSize: chunkSize,
      dispatched: turn.pass,
      signal,
      onProgress: (loaded: number) => ctx.progress?.fileProgress(file.path, loaded),
    };
    const request = { bucket: batch.bucket, key, file: file.absolutePath, size: identity.size, chunkSize };
    const sent = await (local
      ? putFile(put, { ...request, sha256: local.sha256, metadata: { [METADATA_SHA256]: local.sha256 } })
      : putFileHashing(put, { ...request, metadata: (sha256) => ({ [METADATA_SHA256]: sha256 }) })
    ).catch((error: unknown) => Promise.reject(localFileError(error, file.absolutePath)));
    cache.put(file.absolutePath, identity, chunkSize, sent);
    ctx.progress?.fileDone(file.path, sent.size, "uploaded");
    note({ key, size: sent.size }, "uploaded");
    return { path: file.path, size: sent.size, sha256: sent.sha256, chunks: sent.chunks, how: "uploaded" };
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

interface Turn {
  /** Resolves when the file before this one has all its requests under way. */
  ready: Promise<void>;
  pass: () => void;
}

/**
 * The order files are sent in: largest first, each starting once the one before holds a request
 * slot for its last part (or PUT). A big file's parts then take the slots as they free up, and
 * its CompleteMultipartUpload (S3 assembles the object: on moto ~0.5 s for 192 MiB) runs while
 * the smaller files still go up, instead of at the end with nothing else to do; the small files'
 * PUTs fill the slots last. Measured on the upload bench: see scripts/bench/upload.ts.
 */
function largestFirst(files: readonly LocalFile[]): Map<LocalFile, Turn> {
  const turns = new Map<LocalFile, Turn>();
  let previous = Promise.resolve();
  for (const file of [...files].sort((a, b) => b.size - a.size)) {
    let pass!: () => void;
    const passed = new Promise<void>((resolve) => (pass = resolve));
    turns.set(file, { ready: previous, pass });
    previous = passed;
  }
  return turns;
}
