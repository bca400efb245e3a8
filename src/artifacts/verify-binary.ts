import type { ProjectNames } from "../infra/names.js";
import { checkPinnedObject, type PinnedCheck } from "./pinned.js";
import { parseSha256sumLine, sha256OfStream } from "./hash.js";
import { METADATA_SHA256, METADATA_VERSION, transferFor, type ArtifactDeps } from "./deps.js";

/**
 * Is bin/synkti in S3 and intact? For preflight (observation only, never writes).
 * - quick (default): HeadObject + the .sha256 file: present, size, recorded SHA-256 and version,
 *   and the checksum file agrees. Two small requests; catches a missing, foreign (no metadata) or
 *   half-replaced binary. It trusts that metadata and bytes belong together.
 * - deep: also downloads the object and hashes it as it streams (~130 MB: seconds in-region,
 *   longer from a laptop, plus transfer cost), which proves the bytes are what was recorded.
 *   Workers make the same proof on every boot against the SHA-256 embedded in user-data.
 */
export interface VerifyBinaryOptions {
  deep?: boolean;
  /** The deployer's own version: reported as versionMatches, a staleness hint, not an integrity failure. */
  localVersion?: string;
  /** SHA-256 of a local build the caller expects to be in S3. */
  localSha256?: string;
  signal?: AbortSignal;
}

export interface BinaryVerification {
  present: boolean;
  bucket: string;
  key: string;
  checksumKey: string;
  depth: "quick" | "deep";
  size?: number;
  version?: string;
  sha256Recorded?: string;
  sha256ChecksumFile?: string;
  sha256Actual?: string;
  /** S3's own checksum (base64); whole-object for a single PUT, composite for multipart. */
  s3ChecksumSha256?: string;
  versionMatches?: boolean;
  sha256MatchesLocal?: boolean;
  /**
   * `bin/synkti-<recorded sha256>`, what workers download (a launch pins it): present with the same
   * size and sha256 metadata, and, when deep, its bytes hash to it. Absent without a recorded hash.
   */
  pinned?: PinnedCheck;
  /** Integrity: present, recorded, consistent (and, when deep, the bytes hash to the record). */
  ok: boolean;
  problems: string[];
}

export async function verifyBinaryInS3(deps: ArtifactDeps, names: ProjectNames, options: VerifyBinaryOptions = {}): Promise<BinaryVerification> {
  const transfer = await transferFor(deps);
  const { signal } = options;
  const base = { bucket: names.bucket, key: names.binaryKey, checksumKey: names.binaryChecksumKey, depth: options.deep ? ("deep" as const) : ("quick" as const) };
  const [head, checksumText] = await Promise.all([
    transfer.head(names.bucket, names.binaryKey, signal),
    transfer.getText(names.bucket, names.binaryChecksumKey, signal),
  ]);
  if (head === undefined) return { ...base, present: false, ok: false, problems: [`s3://${names.bucket}/${names.binaryKey} does not exist`] };

  const problems: string[] = [];
  const recorded = head.metadata[METADATA_SHA256]?.toLowerCase();
  const version = head.metadata[METADATA_VERSION];
  const checksumFile = checksumText === undefined ? undefined : parseSha256sumLine(checksumText);
  if (recorded === undefined) problems.push("the object has no sha256 metadata: it was not uploaded by synkti upload binary");
  if (version === undefined) problems.push("the object has no version metadata");
  if (checksumText === undefined) problems.push(`${names.binaryChecksumKey} is missing`);
  else if (checksumFile === undefined) problems.push(`${names.binaryChecksumKey} is not in sha256sum format`);
  else if (recorded !== undefined && checksumFile.sha256 !== recorded) problems.push(`${names.binaryChecksumKey} disagrees with the object's sha256 metadata`);

  const pinned =
    recorded === undefined
      ? undefined
      : await checkPinnedObject(transfer, names.bucket, names.pinnedBinaryKey(recorded), { size: head.size, sha256: recorded }, { ...(options.deep ? { deep: true } : {}), ...(signal ? { signal } : {}) });

  let sha256Actual: string | undefined;
  if (options.deep) {
    const stream = await transfer.getStream(names.bucket, names.binaryKey, signal);
    if (stream === undefined) problems.push("the object disappeared while being verified");
    else {
      const actual = await sha256OfStream(stream, signal);
      sha256Actual = actual.sha256;
      if (actual.size !== head.size) problems.push(`downloaded ${actual.size} bytes, the object claims ${head.size}`);
      if (recorded !== undefined && actual.sha256 !== recorded) problems.push("the object's bytes do not hash to its recorded sha256: tampered or corrupted");
    }
  }
  return {
    ...base,
    present: true,
    size: head.size,
    ...(version !== undefined ? { version } : {}),
    ...(recorded !== undefined ? { sha256Recorded: recorded } : {}),
    ...(checksumFile ? { sha256ChecksumFile: checksumFile.sha256 } : {}),
    ...(sha256Actual ? { sha256Actual } : {}),
    ...(head.checksumSha256 ? { s3ChecksumSha256: head.checksumSha256 } : {}),
    ...(pinned ? { pinned } : {}),
    ...(options.localVersion !== undefined ? { versionMatches: version === options.localVersion } : {}),
    ...(options.localSha256 !== undefined ? { sha256MatchesLocal: recorded === options.localSha256.toLowerCase() } : {}),
    ok: problems.length === 0,
    problems,
  };
}

