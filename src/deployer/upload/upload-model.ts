import { versionInfo } from "../../core/version.js";
import type { ProjectNames } from "../../infra/names.js";
import { abortIncompleteUploads, abortQuietly } from "./cleanup.js";
import { transferFor } from "../../artifacts/deps.js";
import { concurrencyOf, interruptedUpload, regionFlag, requireBucket } from "./context.js";
import { uploadFiles } from "./file-batch.js";
import { sha256OfBytes } from "../../artifacts/hash.js";
import { listLocalFiles } from "./local-files.js";
import { buildManifest, parseManifest, renderManifest, sameContent } from "../../artifacts/manifest.js";
import { validateModelName } from "../../artifacts/model-name.js";
import type { TransferOptions, UploadDeps } from "./types.js";

/**
 * `synkti upload model`: weights from a local folder to `<model>/...`, then `<model>/manifest.json`
 * last. Resumable by construction: each file is skipped when S3 already holds it with the same
 * size and SHA-256, so a re-run after Ctrl-C, a crash or a deleted object uploads only what is
 * missing. The manifest is the commit point: if a re-run must change objects, the old manifest is
 * deleted first, so no reader ever sees a manifest describing files that are being replaced.
 */
export interface UploadModelInput extends TransferOptions {
  names: ProjectNames;
  model: string;
  from: string;
}

export interface UploadModelResult {
  status: "uploaded" | "unchanged";
  bucket: string;
  model: string;
  manifestKey: string;
  files: number;
  bytes: number;
  uploaded: string[];
  skipped: string[];
  /** Local entries not uploaded (hidden files, a local manifest.json, special files). */
  ignored: string[];
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
  const transfer = await transferFor(deps);
  const prefix = names.modelPrefix(model);
  const manifestKey = names.manifestKey(model);
  const keys = new Set(listing.files.map((f) => `${prefix}${f.path}`));
  const started = deps.clock.now();
  let uploadsStarted = false;
  try {
    await requireBucket(transfer, names, input.region, signal);
    const [abortedIncompleteUploads, manifestText] = await Promise.all([
      abortIncompleteUploads(transfer, deps.log, names.bucket, prefix, keys, signal),
      transfer.getText(names.bucket, manifestKey, signal),
    ]);
    const previous = manifestText === undefined ? undefined : parseManifest(manifestText);
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
        beforeFirstUpload,
        ...(input.partSize ? { partSize: input.partSize } : {}),
        ...(signal ? { signal } : {}),
        ...(input.progress ? { progress: input.progress } : {}),
      },
      { bucket: names.bucket, prefix, files: listing.files },
    );

    const uploaded = outcomes.filter((o) => o.how === "uploaded");
    const manifest = buildManifest(model, outcomes, new Date(deps.clock.now()), versionInfo().version);
    const unchanged = uploaded.length === 0 && previous?.ok === true && sameContent(previous.manifest, manifest);
    if (!unchanged) {
      const text = renderManifest(manifest);
      await transfer.putBytes(names.bucket, manifestKey, Buffer.from(text), {
        contentType: "application/json",
        sha256Hex: sha256OfBytes(text),
        ...(signal ? { signal } : {}),
      });
      deps.log.info({ key: manifestKey, files: manifest.files.length }, "manifest written");
    }
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
      files: outcomes.length,
      bytes: outcomes.reduce((sum, o) => sum + o.size, 0),
      uploaded: uploaded.map((o) => o.path),
      skipped: outcomes.filter((o) => o.how === "skipped").map((o) => o.path),
      ignored: listing.skipped,
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
  }
}
