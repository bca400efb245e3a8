import { lstat, mkdir, open, rename, rm, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { chunkCount, chunkRange } from "../../artifacts/chunks.js";
import { sha256OfBytes } from "../../artifacts/hash.js";
import { parseManifest, requireChunks, type Manifest } from "../../artifacts/manifest.js";
import type { RangeReader } from "../../aws/s3-ranges.js";
import type { Clock } from "../../core/clock.js";
import { isSynktiError, SynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { Semaphore } from "../../core/semaphore.js";
import { hashOnDisk, landChunk } from "./chunk-io.js";
import { FetchProgress } from "./progress.js";
import { uploadAgain, weightsRefused, weightsUnreachable, type FetchWhere } from "./refusals.js";
import { fileTargets, LOCAL_MANIFEST, type FileTarget } from "./targets.js";

/**
 * The worker fetches its own weights (before its preflight, so no model server starts until every
 * byte is verified): the pinned manifest (its bytes must hash to the SHA-256 user-data was rendered
 * with), then only the files it lists, as ranged GETs of one chunk each, `concurrency` at a time
 * across all files. Each chunk streams from S3 through its SHA-256 straight into its place in a
 * preallocated file (positioned writes): every byte is read from the network once and never read
 * back. A resume (agent restarted, instance rebooted) re-hashes what is already on disk chunk by
 * chunk and fetches only the chunks that do not match. A chunk whose bytes do not match the
 * manifest is refused, naming the file and the chunk: a retry would fetch the same bytes.
 * Every request goes through the S3 client, which adds ExpectedBucketOwner.
 */
export interface WeightsFetchDeps {
  ranges: RangeReader;
  /** A small object as text (the manifest); undefined when missing. */
  readText(bucket: string, key: string, signal?: AbortSignal): Promise<string | undefined>;
  clock: Clock;
  log: Logger;
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
  /** Failed GETs of one chunk before the fetch gives up (a corrupted chunk is never retried). */
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

/** ~32 connections of ~80 MB/s each fill a 25 Gbit/s link; memory stays at ~1 MiB per chunk in flight. */
export const DEFAULT_FETCH_CONCURRENCY = 32;
const DEFAULT_ATTEMPTS = 4;

interface OpenFile {
  target: FileTarget;
  handle: FileHandle;
  todo: number[];
}

export async function fetchWeights(deps: WeightsFetchDeps, input: WeightsFetchInput): Promise<WeightsFetchResult> {
  const where: FetchWhere = { project: input.project, model: input.model, bucket: input.bucket };
  const { text, manifest } = await pinnedManifest(deps, input, where);
  const targets = fileTargets(manifest, input.modelDir, input.prefix, where);
  const totalChunks = manifest.files.reduce((n, f) => n + f.chunks.length, 0);
  const progress = new FetchProgress(deps, manifest.files.reduce((n, f) => n + f.size, 0), totalChunks);
  const stop = new AbortController();
  const onAbort = () => stop.abort(input.signal?.reason);
  input.signal?.addEventListener("abort", onAbort, { once: true });
  if (input.signal?.aborted) stop.abort(input.signal.reason);
  const reporting = progress.report(input.progressEveryMs ?? 5000, stop.signal);
  const slots = new Semaphore(input.concurrency ?? DEFAULT_FETCH_CONCURRENCY);
  const opened: OpenFile[] = [];
  let firstError: unknown;
  const failFast = (error: unknown) => {
    if (firstError === undefined && !input.signal?.aborted) {
      firstError = error;
      stop.abort(error);
    }
  };
  deps.log.info({ files: targets.length, bytes: progress.totalBytes, chunks: totalChunks }, `fetching ${targets.length} files (${progress.line().split(" of ")[1]?.split(" GB")[0]} GB) the manifest lists into ${input.modelDir}`);
  try {
    await mkdir(input.modelDir, { recursive: true });
    await Promise.all(targets.map((t) => openTarget(t, manifest.chunkSize, slots, progress, stop.signal, where).then((o) => void opened.push(o)).catch(failFast)));
    const reused = progress.chunksDone;
    if (reused > 0) deps.log.info({ reusedChunks: reused }, `resuming: ${reused} of ${totalChunks} chunks already on disk and verified`);
    const jobs = opened.flatMap((file) => file.todo.map((index) => ({ file, index })));
    await Promise.all(
      jobs.map(async ({ file, index }) => {
        const release = await slots.acquire(1, stop.signal);
        try {
          await fetchChunk(deps, input, file, index, manifest.chunkSize, progress, stop.signal, where);
        } finally {
          release();
        }
      }).map((job) => job.catch(failFast)),
    );
    if (input.signal?.aborted) throw input.signal.reason;
    if (firstError !== undefined) throw firstError;
    // Last, so a manifest on disk means every file it lists was verified (preflight relies on it).
    const local = path.join(input.modelDir, LOCAL_MANIFEST);
    await writeFile(`${local}.tmp`, text);
    await rename(`${local}.tmp`, local);
    const result = {
      files: targets.length,
      bytes: progress.totalBytes,
      chunks: totalChunks,
      fetchedChunks: jobs.length,
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
    await reporting;
    await Promise.allSettled(opened.map((o) => o.handle.close()));
  }
}

async function pinnedManifest(deps: WeightsFetchDeps, input: WeightsFetchInput, where: FetchWhere): Promise<{ text: string; manifest: Manifest }> {
  const url = `s3://${input.bucket}/${input.manifestKey}`;
  let text: string | undefined;
  try {
    text = await deps.readText(input.bucket, input.manifestKey, input.signal);
  } catch (error) {
    if (input.signal?.aborted) throw error;
    throw weightsUnreachable(`Could not read ${url}, the manifest this worker was launched with: ${(error as Error).message}`, where, error);
  }
  if (text === undefined) throw weightsRefused("weights-manifest-missing", `${url} is missing: the manifest this worker was launched with (the upload stores it again).`, where);
  const actual = sha256OfBytes(text);
  if (actual !== input.manifestSha256) {
    throw weightsRefused("weights-manifest-mismatch", `Manifest SHA-256 mismatch: ${url} hashes to ${actual}, this worker was launched with ${input.manifestSha256}; refusing its weights.`, where);
  }
  const parsed = parseManifest(text);
  if (!parsed.ok) throw weightsRefused("weights-manifest-invalid", `${url} ${parsed.problem}; refusing its weights.`, where);
  const chunked = requireChunks(parsed.manifest);
  if (!chunked.ok) throw weightsRefused("weights-manifest-version", `${url} ${chunked.problem}.`, where);
  if (chunked.manifest.model !== input.model) throw weightsRefused("weights-manifest-model", `${url} names model '${chunked.manifest.model}', not '${input.model}'; refusing its weights.`, where);
  return { text, manifest: chunked.manifest };
}

/**
 * Opens (or creates) the file at its full size and decides which chunks to fetch: all of a new
 * file; of a file already there, those whose bytes on disk do not hash to the manifest's.
 */
async function openTarget(target: FileTarget, chunkSize: number, slots: Semaphore, progress: FetchProgress, signal: AbortSignal, where: FetchWhere): Promise<OpenFile> {
  const { file, absolute } = target;
  const all = Array.from({ length: chunkCount(file.size, chunkSize) }, (_, i) => i);
  const existing = await lstat(absolute).catch(() => undefined);
  try {
    if (existing && !existing.isFile()) await rm(absolute, { recursive: true, force: true }); // never write through a link
    await mkdir(path.dirname(absolute), { recursive: true });
    const handle = await open(absolute, existing?.isFile() ? "r+" : "w");
    // Preallocated at its final size, so chunks land in any order (a sparse file until written).
    await handle.truncate(file.size);
    if (!existing?.isFile()) return { target, handle, todo: all };
    const todo: number[] = [];
    await Promise.all(
      all.map(async (index) => {
        const release = await slots.acquire(1, signal);
        try {
          const { start, end } = chunkRange(file.size, index, chunkSize);
          const seen = await hashOnDisk(handle, start, end, signal);
          if (seen.sha256 === file.chunks[index] && seen.bytes === end - start) {
            progress.verifiedOnDiskBytes += seen.bytes;
            progress.chunksDone += 1;
          } else todo.push(index);
        } finally {
          release();
        }
      }),
    );
    return { target, handle, todo: todo.sort((a, b) => a - b) };
  } catch (error) {
    throw diskError(error, absolute, where);
  }
}

async function fetchChunk(
  deps: WeightsFetchDeps,
  input: WeightsFetchInput,
  { target, handle }: OpenFile,
  index: number,
  chunkSize: number,
  progress: FetchProgress,
  signal: AbortSignal,
  where: FetchWhere,
): Promise<void> {
  const { file, key } = target;
  const range = chunkRange(file.size, index, chunkSize);
  const url = `s3://${input.bucket}/${key}`;
  const which = `chunk ${index + 1} of ${file.chunks.length} (bytes ${range.start}-${range.end - 1})`;
  const attempts = input.attempts ?? DEFAULT_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    let counted = 0;
    try {
      const got = await deps.ranges.getRange(input.bucket, key, range, signal);
      if (got === undefined) throw weightsRefused("weights-missing", `${url} is missing: the manifest lists '${file.path}' (${file.size} bytes).`, where);
      if (got.objectSize !== undefined && got.objectSize !== file.size) {
        throw weightsRefused("weights-size", `${url} is ${got.objectSize} bytes, the manifest says ${file.size} for '${file.path}': other bytes were put under its name; refusing them.`, where);
      }
      const landed = await landChunk(handle, range.start, got.body, signal, (n) => {
        counted += n;
        progress.fetchedBytes += n;
      }).catch((error: unknown) => Promise.reject(isWriteError(error) ? diskError(error, target.absolute, where) : error));
      if (landed.bytes !== range.end - range.start) throw new Error(`got ${landed.bytes} bytes of ${range.end - range.start}`);
      if (landed.sha256 !== file.chunks[index]) {
        throw weightsRefused(
          "weights-corrupted",
          `Weights file '${file.path}': ${which} does not hash to the manifest's SHA-256 (${url} holds other bytes than were uploaded: corrupted or replaced); refusing to serve it.`,
          where,
        );
      }
      progress.chunksDone += 1;
      return;
    } catch (error) {
      progress.fetchedBytes -= counted;
      if (signal.aborted || isSynktiError(error) && error.kind !== "unobservable") throw error;
      if (attempt >= attempts) throw weightsUnreachable(`Could not download '${file.path}' ${which} from ${url} after ${attempts} attempts: ${(error as Error).message}`, where, error);
      deps.log.warn({ file: file.path, chunk: index, attempt, error: (error as Error).message }, `retrying ${which} of '${file.path}'`);
      await deps.clock.sleep(1000 * attempt, signal);
    }
  }
}

const isWriteError = (error: unknown) => typeof (error as { code?: unknown })?.code === "string" && /^E[A-Z]+$/.test((error as { code: string }).code) && (error as { syscall?: string }).syscall !== undefined;

function diskError(error: unknown, file: string, where: FetchWhere): unknown {
  if (isSynktiError(error) || (error as { name?: string })?.name === "AbortError") return error;
  const code = (error as { code?: string })?.code;
  const dir = path.dirname(file);
  const message = code === "ENOSPC" ? `No space left on the device of ${dir} while writing ${file}` : `Cannot write ${file}: ${(error as Error)?.message ?? String(error)}`;
  return new SynktiError(message, { code: "weights-disk", kind: "unsafe", fault: "aws", remedy: `df -h ${dir}   # the models folder needs the manifest's total size`, cause: error });
}

/** Anything that is not already a refusal: an AWS failure is unobservable, the rest a bug to report. */
function asFetchError(error: unknown, input: WeightsFetchInput, where: FetchWhere): unknown {
  if (input.signal?.aborted || isSynktiError(error)) return error;
  return new SynktiError(`Fetching the weights of ${input.model} failed: ${(error as Error)?.message ?? String(error)}`, { code: "weights-fetch", kind: "internal", remedy: uploadAgain(where), cause: error });
}
