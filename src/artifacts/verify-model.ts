import type { ProjectNames } from "../infra/names.js";
import { parseManifest } from "./manifest.js";
import { validateModelName } from "./model-name.js";
import { METADATA_SHA256, transferFor, type ArtifactDeps } from "./deps.js";
import { Semaphore } from "../core/semaphore.js";

/**
 * Are a model's weights complete in S3? For preflight (observation only). Reads the manifest, then
 * HEADs every file it lists (16 at a time): the object must exist with the manifest's size and a
 * `sha256` metadata equal to the manifest's. Cost: one request per file, no download; a worker
 * still hashes what it syncs. `synkti upload model` with the same flags repairs what this finds.
 */
export interface ModelVerification {
  model: string;
  bucket: string;
  manifestKey: string;
  manifestPresent: boolean;
  /** Set when the manifest exists but cannot be used. */
  manifestProblem?: string;
  files: number;
  bytes: number;
  missing: string[];
  mismatched: string[];
  /** One line per mismatch, for humans. */
  problems: string[];
  ok: boolean;
}

const HEAD_CONCURRENCY = 16;

export async function verifyModelInS3(
  deps: ArtifactDeps,
  names: ProjectNames,
  model: string,
  options: { signal?: AbortSignal } = {},
): Promise<ModelVerification> {
  validateModelName(model);
  const transfer = await transferFor(deps);
  const { signal } = options;
  const manifestKey = names.manifestKey(model);
  const base = { model, bucket: names.bucket, manifestKey, files: 0, bytes: 0, missing: [], mismatched: [] };
  const text = await transfer.getText(names.bucket, manifestKey, signal);
  if (text === undefined) return { ...base, manifestPresent: false, problems: [`s3://${names.bucket}/${manifestKey} does not exist`], ok: false };
  const parsed = parseManifest(text);
  if (!parsed.ok) return { ...base, manifestPresent: true, manifestProblem: `the manifest ${parsed.problem}`, problems: [`the manifest ${parsed.problem}`], ok: false };
  const { manifest } = parsed;
  const problems: string[] = [];
  if (manifest.model !== model) problems.push(`the manifest names model '${manifest.model}', not '${model}'`);

  const missing: string[] = [];
  const mismatched: string[] = [];
  const slots = new Semaphore(HEAD_CONCURRENCY);
  await Promise.all(
    manifest.files.map(async (file) => {
      const release = await slots.acquire(1, signal);
      const head = await transfer.head(names.bucket, `${names.modelPrefix(model)}${file.path}`, signal).finally(release);
      if (head === undefined) {
        missing.push(file.path);
        problems.push(`${file.path}: missing in S3`);
        return;
      }
      const recorded = head.metadata[METADATA_SHA256]?.toLowerCase();
      const why =
        head.size !== file.size
          ? `size ${head.size} in S3, ${file.size} in the manifest`
          : recorded === undefined
            ? "no sha256 metadata in S3"
            : recorded !== file.sha256
              ? "sha256 in S3 differs from the manifest"
              : undefined;
      if (why) {
        mismatched.push(file.path);
        problems.push(`${file.path}: ${why}`);
      }
    }),
  );
  missing.sort();
  mismatched.sort();
  problems.sort();
  return {
    ...base,
    manifestPresent: true,
    files: manifest.files.length,
    bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
    missing,
    mismatched,
    problems,
    ok: problems.length === 0,
  };
}
