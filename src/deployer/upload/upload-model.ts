import { versionInfo } from "../../core/version.js";
import type { ProjectNames } from "../../infra/names.js";
import { abortIncompleteUploads, abortQuietly } from "./cleanup.js";
import { transferFor } from "../../artifacts/deps.js";
import { concurrencyOf, interruptedUpload, regionFlag, requireBucket } from "./context.js";
import { uploadFiles } from "./file-batch.js";
import { sha256OfBytes } from "../../artifacts/hash.js";
import { listLocalFiles, type SkippedEntry } from "./local-files.js";
import { buildManifest, parseManifest, renderManifest, sameContent } from "../../artifacts/manifest.js";
import { CHUNK_SIZE } from "../../artifacts/chunks.js";
import { validateModelName } from "../../artifacts/model-name.js";
import type { TransferOptions, UploadDeps } from "./types.js";
import type { S3Transfer } from "../../aws/s3-transfer.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import type { PlannedFile } from "./file-batch.js";
import { overwrittenFiles, weightsInUseError, workersServing } from "./weights-in-use.js";
import { loadHashCache, noHashCache } from "./hash-cache.js";

/**
 * `synkti upload model`: weights from a local folder to `<model>/...`, then `<model>/manifest.json`
 * last. Resumable by construction: each file is skipped when S3 already holds it with the same
 * size and SHA-256, so a re-run after Ctrl-C, a crash or a deleted object uploads only what is
 * missing. The manifest is the commit point: if a re-run must change objects, the old manifest is
 * deleted first, so no reader ever sees a manifest describing files that are being replaced.
 * The manifest is also stored under its SHA-256 (`<model>/manifest-<sha256>.json`, what a launch
 * pins), and files a live worker's model names are never given other bytes (weights-in-use.ts).
 */

export interface UploadModelInput extends TransferOptions {
  names: ProjectNames;
  model: string;
  from: string;
  /** The per-user hash cache (hash-cache.ts): an unchanged re-run reads no weight byte. None when absent. */
  hashCacheFile?: string;
}

export interface UploadModelResult {
  status: "uploaded" | "unchanged";
  bucket: string;
  model: string;
  manifestKey: string;
  /** SHA-256 of the manifest's bytes: what a launch pins. */
  manifestSha256: string;
  /** `<model>/manifest-<sha256>.json`: the same manifest under its hash, never overwritten. */
  pinnedManifestKey: string;
  files: number;
  bytes: number;
  uploaded: string[];
  skipped: string[];
  /** Local entries not uploaded (hidden files, a local manifest.json, special files, links out of the folder). */
  ignored: string[];
  /** The same entries, each with why it was not uploaded. */
  ignoredEntries: SkippedEntry[];
  /** Leftover multipart uploads of an earlier, killed run that this run aborted. */
  abortedIncompleteUploads: number;
  uploadedBytes: number;
  seconds: number;
  mbPerSecond: number;
}

export async function uploadModel(deps: UploadDeps, input: UploadModelInput): Promise<UploadModelResult> {
  const { names, signal } = input;
  const command = (model: string, from: string) =>
    `synkti upload model --project-name ${names.project} --model ${model} --from ${from}${regionFlag(input.region)}`;
  const model = validateModelName(input.model, command("<model>", input.from));
  const listing = await listLocalFiles(input.from, command(model, "<weights-dir>"));
  const unexpected = listing.skipped.filter((entry) => entry.reason !== "hidden" && entry.reason !== "synkti's own manifest");
  if (unexpected.length > 0) deps.log.warn({ skipped: unexpected }, "not uploaded: entries that are not regular files inside the folder");
  const transfer = await transferFor(deps);
  const prefix = names.modelPrefix(model);
  const manifestKey = names.manifestKey(model);
  const keys = new Set(listing.files.map((f) => `${prefix}${f.path}`));
  const started = deps.clock.now();
  const hashCache = input.hashCacheFile ? await loadHashCache(input.hashCacheFile, () => deps.clock.now()) : noHashCache;
  let uploadsStarted = false;
  try {
    // All at once (each is a round trip; the EC2 client loads meanwhile), but a missing or foreign
    // bucket is what gets reported: the other calls fail too then, less clearly.
    const [bucket, swept, current, workers] = await Promise.allSettled([
      requireBucket(transfer, names, input.region, signal),
      abortIncompleteUploads(transfer, deps.log, names.bucket, prefix, keys, signal),
      transfer.getText(names.bucket, manifestKey, signal),
      workersServing(deps.ec2 ?? createEc2Instances(deps.clients), names.project, model, signal),
    ]);
    settledValue(bucket);
    const abortedIncompleteUploads = settledValue(swept);
    const manifestText = settledValue(current);
    const serving = settledValue(workers);
    const previous = manifestText === undefined ? undefined : parseManifest(manifestText);
    // While a worker serves this model, the whole plan is reviewed before any byte changes.
    const review =
      serving.length === 0
        ? undefined
        : (planned: PlannedFile[]) => {
            const changed = overwrittenFiles(planned, previous?.ok ? previous.manifest : undefined);
            if (changed.length > 0) throw weightsInUseError({ project: names.project, model, bucket: names.bucket, from: input.from, region: input.region }, changed, serving);
          };
    const beforeFirstUpload = async () => {
      uploadsStarted = true;
      if (manifestText === undefined) return;
      await transfer.deleteObject(names.bucket, manifestKey, signal);
      deps.log.info({ key: manifestKey }, "old manifest deleted: objects it lists are about to change");
    };

    const outcomes = await uploadFiles(
      {
        transfer,
        log: deps.log,
        concurrency: concurrencyOf(input.concurrency),
        chunkSize: CHUNK_SIZE,
        hashCache,
        beforeFirstUpload,
        ...(review ? { review } : {}),
        ...(signal ? { signal } : {}),
        ...(input.progress ? { progress: input.progress } : {}),
      },
      { bucket: names.bucket, prefix, files: listing.files },
    );

    const uploaded = outcomes.filter((o) => o.how === "uploaded");
    const manifest = buildManifest(model, outcomes, new Date(deps.clock.now()), versionInfo().version, CHUNK_SIZE);
    const unchanged = uploaded.length === 0 && previous?.ok === true && sameContent(previous.manifest, manifest);
    const manifestSha256 = await writeManifest(deps, transfer, names, model, unchanged ? { kept: manifestText! } : { text: renderManifest(manifest) }, signal);
    if (previous?.ok) {
      const listed = new Set(manifest.files.map((f) => f.path));
      const gone = previous.manifest.files.filter((f) => !listed.has(f.path)).map((f) => f.path);
      // Never deleted here: weights are permanent; the new manifest simply no longer lists them.
      if (gone.length > 0) deps.log.warn({ paths: gone }, "files of the previous manifest are no longer listed; their objects stay in S3");
    }
    const seconds = (deps.clock.now() - started) / 1000;
    const uploadedBytes = uploaded.reduce((sum, o) => sum + o.size, 0);
    return {
      status: unchanged ? "unchanged" : "uploaded",
      bucket: names.bucket,
      model,
      manifestKey,
      manifestSha256,
      pinnedManifestKey: names.pinnedManifestKey(model, manifestSha256),
      files: outcomes.length,
      bytes: outcomes.reduce((sum, o) => sum + o.size, 0),
      uploaded: uploaded.map((o) => o.path),
      skipped: outcomes.filter((o) => o.how === "skipped").map((o) => o.path),
      ignored: listing.skipped.map((entry) => entry.path),
      ignoredEntries: listing.skipped,
      abortedIncompleteUploads,
      uploadedBytes,
      seconds,
      mbPerSecond: seconds > 0 ? uploadedBytes / seconds / 1e6 : 0,
    };
  } catch (error) {
    // A failed or interrupted run leaves no billed parts behind (and, having written no manifest,
    // no claim that the model is complete).
    const aborted = uploadsStarted ? await abortQuietly(transfer, deps.log, names.bucket, prefix, keys) : 0;
    if (signal?.aborted) throw interruptedUpload(command(model, input.from), aborted);
    throw error;
  } finally {
    // Also after a failure or Ctrl-C: what was hashed stays known to the next run.
    await hashCache.save();
  }
}

function settledValue<T>(result: PromiseSettledResult<T>): T {
  if (result.status === "rejected") throw result.reason;
  return result.value;
}

/**
 * Writes the manifest under its hash first (what launches pin), then the plain key as a server-side
 * copy; a kept manifest only gets its hashed copy when that is missing (an upload by an older
 * synkti). Returns the manifest's SHA-256.
 */
async function writeManifest(
  deps: UploadDeps,
  transfer: S3Transfer,
  names: ProjectNames,
  model: string,
  manifest: { text: string } | { kept: string },
  signal: AbortSignal | undefined,
): Promise<string> {
  const text = "text" in manifest ? manifest.text : manifest.kept;
  const sha256 = sha256OfBytes(text);
  const pinned = names.pinnedManifestKey(model, sha256);
  if ("kept" in manifest) {
    if ((await transfer.head(names.bucket, pinned, signal)) === undefined) {
      await transfer.copyObject(names.bucket, names.manifestKey(model), pinned, signal);
      deps.log.info({ key: pinned }, "manifest stored under its SHA-256 (server-side copy)");
    }
    return sha256;
  }
  await transfer.putBytes(names.bucket, pinned, Buffer.from(text), { contentType: "application/json", sha256Hex: sha256, ...(signal ? { signal } : {}) });
  await transfer.copyObject(names.bucket, pinned, names.manifestKey(model), signal);
  deps.log.info({ key: names.manifestKey(model), pinned }, "manifest written");
  return sha256;
}
