import type { ProjectNames } from "../infra/names.js";
import { parseManifest, requireChunks } from "./manifest.js";
import { validateModelName } from "./model-name.js";
import { METADATA_SHA256, transferFor, type ArtifactDeps } from "./deps.js";
import { checksumVerdict } from "./s3-checksum.js";
import { Semaphore } from "../core/semaphore.js";
import type { S3Transfer } from "../aws/s3-transfer.js";
import { sha256OfBytes } from "./hash.js";

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
  /** SHA-256 of the manifest's bytes (what a launch pins), when it was read. */
  manifestSha256?: string;
  /**
   * `<model>/manifest-<sha256>.json`, what workers download: present with the very same bytes.
   * Only when the plain manifest was read (with `manifestSha256` the pinned one is read directly).
   */
  pinned?: { key: string; present: boolean; problem?: string };
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
  /** `manifestSha256`: check the pinned manifest of that hash (a worker's) instead of the latest. */
  options: { signal?: AbortSignal; manifestSha256?: string } = {},
): Promise<ModelVerification> {
  validateModelName(model);
  const transfer = await transferFor(deps);
  const { signal } = options;
  const manifestKey = options.manifestSha256 ? names.pinnedManifestKey(model, options.manifestSha256) : names.manifestKey(model);
  const base = { model, bucket: names.bucket, manifestKey, files: 0, bytes: 0, missing: [], mismatched: [] };
  const text = await transfer.getText(names.bucket, manifestKey, signal);
  if (text === undefined) return { ...base, manifestPresent: false, problems: [`s3://${names.bucket}/${manifestKey} does not exist`], ok: false };
  const manifestSha256 = sha256OfBytes(text);
  const broken = (problem: string) => ({ ...base, manifestPresent: true, manifestSha256, manifestProblem: problem, problems: [problem], ok: false });
  if (options.manifestSha256 && manifestSha256 !== options.manifestSha256) return broken("the manifest does not hash to its name: tampered or corrupted");
  const parsed = parseManifest(text);
  if (!parsed.ok) return broken(`the manifest ${parsed.problem}`);
  const { manifest } = parsed;
  // Workers fetch only version 2 (chunk hashes): a launch with an older manifest is refused here, with the fix, not on every worker.
  const chunked = requireChunks(manifest);
  if (!chunked.ok) return broken(`the manifest ${chunked.problem}`);
  const problems: string[] = [];
  const pinned = options.manifestSha256 ? undefined : await checkPinnedManifest(transfer, names, model, text, manifestSha256, signal);
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
      // Weights sent while hashed carry no sha256 metadata: S3's own checksum vouches for them.
      const checksum = recorded === undefined ? checksumVerdict(head, file) : undefined;
      const why =
        head.size !== file.size
          ? `size ${head.size} in S3, ${file.size} in the manifest`
          : checksum === "unknown"
            ? "no sha256 metadata or SHA-256 checksum in S3"
            : checksum === "different"
              ? "S3's SHA-256 checksum differs from the manifest"
              : recorded !== undefined && recorded !== file.sha256
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
    manifestSha256,
    ...(pinned ? { pinned } : {}),
    files: manifest.files.length,
    bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
    missing,
    mismatched,
    problems,
    ok: problems.length === 0,
  };
}

/** The hashed copy of the latest manifest, byte for byte (a few KB: read, not trusted by its name). */
async function checkPinnedManifest(
  transfer: S3Transfer,
  names: ProjectNames,
  model: string,
  text: string,
  sha256: string,
  signal?: AbortSignal,
): Promise<NonNullable<ModelVerification["pinned"]>> {
  const key = names.pinnedManifestKey(model, sha256);
  const copy = await transfer.getText(names.bucket, key, signal);
  if (copy === undefined) return { key, present: false, problem: `s3://${names.bucket}/${key} does not exist` };
  return copy === text ? { key, present: true } : { key, present: true, problem: `s3://${names.bucket}/${key} differs from the manifest it is named after` };
}
