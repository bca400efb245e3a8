import { setMaxListeners } from "node:events";
import { lstat, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { chunkCount, chunkRange } from "../../artifacts/chunks.js";
import type { RangeReader } from "../../aws/s3-ranges.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { Semaphore } from "../../core/semaphore.js";
import { hashOnDisk, withFile } from "./chunk-io.js";
import { fetchSpan, type SpanContext } from "./fetch-span.js";
import { HashWriters } from "./hash-writers.js";
import { chunksPerGet, planGets, type GetSpan } from "./get-plan.js";
import { bytesStillNeeded, FILE_MODE, freeBytesOf, prepareModelFolder } from "./model-folder.js";
import { FetchProgress } from "./progress.js";
import { pinnedManifest } from "./pinned-manifest.js";
import { asFetchError, diskError, type FetchWhere } from "./refusals.js";
import { fileTargets, LOCAL_MANIFEST, type FileTarget } from "./targets.js";

/**
 * The worker fetches its own weights (before its preflight, so no model server starts until every
 * byte is verified): the pinned manifest (its bytes must hash to the SHA-256 user-data was rendered
 * with), then only the files it lists, as ranged GETs of up to `maxGetBytes` of consecutive
 * chunks still needed (get-plan.ts), `concurrency` at a time across all files, longest first.
 * Each GET's body is split at chunk boundaries as it streams; each chunk goes through its SHA-256
 * straight into its place in a preallocated file (positioned writes, on hashing threads:
 * hash-writers.ts) and is checked against the manifest the moment its last byte is written:
 * every byte is read from the network once and never read back. A chunk whose bytes do not match
 * is refused at once, naming the file and the chunk (a retry would fetch the same bytes); a GET
 * that fails is asked again from its first chunk not yet verified (fetch-span.ts). A resume (agent
 * restarted, instance rebooted) re-hashes what is already on disk chunk by chunk and fetches only
 * the chunks that do not match. Every request goes through the S3 client, which adds
 * ExpectedBucketOwner.
 */
export interface WeightsFetchDeps {
  ranges: RangeReader;
  /** A small object as text (the manifest); undefined when missing. */
  readText(bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined>;
  clock: Clock;
  log: Logger;
  /** Free bytes on the file system of a folder; statfs by default (tests say less). */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface WeightsFetchInput {
  project: string;
  model: string;
  bucket: string;
  /** `<model>/` in the bucket. */
  prefix: string;
  /** The pinned manifest's key and the SHA-256 its bytes must have. */
  manifestKey: string;
  manifestSha256: string;
  /** `<models>/<model>`. */
  modelDir: string;
  /** Ranged GETs in flight at once (and chunks re-verified at once on a resume). */
  concurrency?: number;
  /** The most one ranged GET asks for: consecutive chunks still needed, whole chunks, at least one. */
  maxGetBytes?: number;
  /** Threads that hash and write what the GETs bring (default: the cores left, 1 to 4). */
  hashThreads?: number;
  /** Failed GETs in a row with no chunk verified in between before the fetch gives up (a corrupted chunk is never retried). */
  attempts?: number;
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export interface WeightsFetchResult {
  files: number;
  bytes: number;
  chunks: number;
  fetchedChunks: number;
  /** Chunks already on disk with the right SHA-256 (a resume): not fetched again. */
  reusedChunks: number;
  /** Bytes that came from S3 and went through the hash into the file. */
  fetchedBytes: number;
  /** Bytes read back from disk to re-verify them (a resume only). */
  verifiedOnDiskBytes: number;
  seconds: number;
}

/**
 * ~32 connections of ~80-100 MB/s each fill a 25 Gbit/s link; memory stays at ~3 MiB per GET in
 * flight (the batches on their way to a hashing thread). On the bench (scripts/bench/weights-fetch.ts
 * --explore: 300 MiB in 21 files, 23 GETs) 8, 16 and 32 measured the same within the noise of the
 * shared machine: fewer GETs than slots; 32 is for the instance's network.
 */
export const DEFAULT_FETCH_CONCURRENCY = 32;
/**
 * One GET asks for up to 4 chunks (64 MiB of today's 16 MiB chunks). Real S3: a GET's first byte
 * costs a round trip or two (20-50 ms) whatever its size, and a connection reaches its steady TCP
 * window only after some megabytes, so fewer, larger GETs keep each connection busy (64 MiB is
 * ~0.7 s of one connection's transfer); the cap keeps a large file spread over many connections
 * (a 4 GB shard is 60 GETs), and since a failed GET resumes at its first chunk not yet verified,
 * a larger GET costs nothing more on a failure. moto 5.2.1 reads and copies the whole object for
 * every ranged GET (FakeKey.value), so a GET costs it the object's size: 16 MiB GETs of a 192 MiB
 * object cost it 12 whole copies, 64 MiB ones 3 (its CPU per bench run fell from ~1.5 s to ~0.55 s);
 * 128 MiB measured the same as 64 within the noise, with half the spread on S3.
 */
export const DEFAULT_MAX_GET_BYTES = 64 * 2 ** 20;
const DEFAULT_ATTEMPTS = 4;

/** A file at its full size on disk, and the chunks it still needs. */
interface PreparedFile {
  target: FileTarget;
  todo: number[];
}

export async function fetchWeights(deps: WeightsFetchDeps, input: WeightsFetchInput): Promise<WeightsFetchResult> {
  const where: FetchWhere = { project: input.project, model: input.model, bucket: input.bucket };
  const { text, manifest } = await pinnedManifest(deps, input, where);
  const targets = fileTargets(manifest, input.modelDir, input.prefix, where);
  const totalChunks = manifest.files.reduce((n, f) => n + f.chunks.length, 0);
  const progress = new FetchProgress(deps, manifest.files.reduce((n, f) => n + f.size, 0), totalChunks);
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per GET waiting for a slot and per request in flight: not a leak
  const onAbort = () => stop.abort(input.signal?.reason);
  input.signal?.addEventListener("abort", onAbort, { once: true });
  if (input.signal?.aborted) stop.abort(input.signal.reason);
  const reporting = progress.report(input.progressEveryMs ?? 5000, stop.signal);
  const slots = new Semaphore(input.concurrency ?? DEFAULT_FETCH_CONCURRENCY);
  let writers: HashWriters | undefined;
  let firstError: unknown;
  const failFast = (error: unknown) => {
    if (firstError === undefined && !input.signal?.aborted) {
      firstError = error;
      stop.abort(error);
    }
  };
  deps.log.info({ files: targets.length, bytes: progress.totalBytes, chunks: totalChunks }, `fetching the ${targets.length} files the manifest lists (${(progress.totalBytes / 1e9).toFixed(2)} GB, ${totalChunks} chunks) into ${input.modelDir}`);
  try {
    await prepareModelFolder(input.modelDir, targets.map((t) => t.absolute)).catch((error: unknown) => Promise.reject(diskError(error, path.join(input.modelDir, LOCAL_MANIFEST))));
    await enoughSpace(deps, input.modelDir, targets);
    // In the manifest's order, whichever finished first: the GETs' order below is then always the same.
    const prepared = (await Promise.all(targets.map((t) => prepareTarget(t, manifest.chunkSize, slots, progress, stop.signal).catch(failFast)))).filter((p) => p !== undefined);
    const reused = progress.chunksDone;
    if (reused > 0) deps.log.info({ reusedChunks: reused }, `resuming: ${reused} of ${totalChunks} chunks already on disk and verified`);
    const perGet = chunksPerGet(input.maxGetBytes ?? DEFAULT_MAX_GET_BYTES, manifest.chunkSize);
    // Longest GETs first, so the last one to finish is a short one (the slots are FIFO).
    const jobs = prepared
      .flatMap(({ target, todo }) => planGets(todo, perGet).map((span) => ({ target, span, bytes: spanBytes(target, span, manifest.chunkSize) })))
      .sort((a, b) => b.bytes - a.bytes);
    writers = new HashWriters(input.hashThreads);
    const ctx: SpanContext = { deps, bucket: input.bucket, chunkSize: manifest.chunkSize, attempts: input.attempts ?? DEFAULT_ATTEMPTS, progress, writers, signal: stop.signal, where };
    await Promise.all(
      jobs.map(async ({ target, span }) => {
        const release = await slots.acquire(1, stop.signal);
        try {
          await fetchSpan(ctx, target, span);
        } catch (error) {
          failFast(error); // before the slot is given back: no GET starts after a refusal
        } finally {
          release();
        }
      }).map((job) => job.catch(failFast)),
    );
    if (input.signal?.aborted) throw input.signal.reason;
    if (firstError !== undefined) throw firstError;
    // Last, so a manifest on disk means every file it lists was verified (preflight relies on it).
    const local = path.join(input.modelDir, LOCAL_MANIFEST);
    await rm(`${local}.tmp`, { force: true })
      .then(() => writeFile(`${local}.tmp`, text, { flag: "wx", mode: FILE_MODE })) // "wx": a link in its place is not followed
      .then(() => rename(`${local}.tmp`, local))
      .catch((error: unknown) => Promise.reject(diskError(error, local)));
    const result = {
      files: targets.length,
      bytes: progress.totalBytes,
      chunks: totalChunks,
      fetchedChunks: totalChunks - reused,
      reusedChunks: reused,
      fetchedBytes: progress.fetchedBytes,
      verifiedOnDiskBytes: progress.verifiedOnDiskBytes,
      seconds: progress.seconds(),
    };
    const rate = result.seconds > 0 ? (result.fetchedBytes / result.seconds / 1e6).toFixed(0) : "-";
    deps.log.info(result, `weights verified: ${result.files} files, every chunk's SHA-256 as the manifest lists (${rate} MB/s; ${reused} chunks were already on disk)`);
    return result;
  } catch (error) {
    throw asFetchError(error, input, where);
  } finally {
    stop.abort(new Error("fetch over"));
    input.signal?.removeEventListener("abort", onAbort);
    await Promise.all([reporting, writers?.close()]);
  }
}

function spanBytes({ file }: FileTarget, span: GetSpan, chunkSize: number): number {
  return chunkRange(file.size, span.last, chunkSize).end - chunkRange(file.size, span.first, chunkSize).start;
}

async function enoughSpace(deps: WeightsFetchDeps, modelDir: string, targets: readonly FileTarget[]): Promise<void> {
  const [needed, free] = await Promise.all([bytesStillNeeded(targets.map((t) => ({ absolute: t.absolute, size: t.file.size }))), (deps.freeBytes ?? freeBytesOf)(modelDir)]);
  if (needed <= free) return;
  const gb = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(2)} MB`);
  throw diskError(Object.assign(new Error(`the weights need ${gb(needed)} more, ${gb(free)} is free`), { code: "ENOSPC", syscall: "statfs" }), path.join(modelDir, LOCAL_MANIFEST));
}

/**
 * Creates the file (or keeps it) at its full size and decides which chunks to fetch: all of a new
 * file; of a file already there (a resume), those whose bytes on disk do not hash to the
 * manifest's. Files are opened per step and closed at once: a model of a thousand files never
 * holds more descriptors than there are requests in flight.
 */
async function prepareTarget(target: FileTarget, chunkSize: number, slots: Semaphore, progress: FetchProgress, signal: AbortSignal): Promise<PreparedFile> {
  const { file, absolute } = target;
  const all = Array.from({ length: chunkCount(file.size, chunkSize) }, (_, i) => i);
  const existing = await lstat(absolute).catch(() => undefined);
  // A file with another name elsewhere (a hard link) is replaced, not written into: its other name may be outside.
  const resumed = existing?.isFile() === true && existing.nlink === 1;
  try {
    const release = await slots.acquire(1, signal);
    try {
      if (existing && !resumed) await rm(absolute, { recursive: true, force: true }); // never write through a link
      // Preallocated at its final size, so chunks land in any order (a sparse file until written);
      // readable by the model server whatever the agent's umask or the mode a resumed file had.
      await withFile(absolute, resumed ? "r+" : "w", async (handle) => {
        await handle.truncate(file.size);
        await handle.chmod(FILE_MODE);
      });
    } finally {
      release();
    }
    if (!resumed) return { target, todo: all };
    const todo: number[] = [];
    await Promise.all(
      all.map(async (index) => {
        const release = await slots.acquire(1, signal);
        try {
          const { start, end } = chunkRange(file.size, index, chunkSize);
          const seen = await withFile(absolute, "r", (handle) => hashOnDisk(handle, start, end, signal));
          if (seen.sha256 === file.chunks[index] && seen.bytes === end - start) {
            progress.verifiedOnDiskBytes += seen.bytes;
            progress.chunksDone += 1;
          } else todo.push(index);
        } finally {
          release();
        }
      }),
    );
    return { target, todo: todo.sort((a, b) => a - b) };
  } catch (error) {
    throw diskError(error, absolute);
  }
}
