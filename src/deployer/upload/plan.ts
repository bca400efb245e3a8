import { METADATA_SHA256 } from "../../artifacts/deps.js";
import { checksumVerdict, type ChecksummedHead } from "../../artifacts/s3-checksum.js";

/**
 * The skip rule, pure so it is table-tested: a file is already in S3 when the object has the same
 * size and its SHA-256 is the local file's: by its `sha256` metadata (files synkti sent in one PUT,
 * or whose hash it knew before sending), else by S3's own checksum (multipart weights, hashed while
 * sent: their composite checksum is that of the file's chunk hashes; s3-checksum.ts). Size first
 * because it is free and catches truncation; the hash then catches same-size different content. An
 * object neither vouches for (put there by another tool) is re-uploaded.
 */
export interface LocalDigest {
  size: number;
  sha256: string;
  /** Per-chunk SHA-256s: what a multipart object's composite checksum is checked against. */
  chunks?: readonly string[];
}

export interface RemoteHead extends ChecksummedHead {
  size: number;
  metadata: Record<string, string>;
}

export type UploadReason = "missing" | "size-differs" | "no-sha256-metadata" | "sha256-differs";
export type FileDecision = { action: "skip" } | { action: "upload"; reason: UploadReason };


export function decide(local: LocalDigest, remote: RemoteHead | undefined): FileDecision {
  const bySize = decideBySize(local.size, remote);
  if (bySize || remote === undefined) return bySize ?? { action: "upload", reason: "missing" };
  const recorded = remote.metadata[METADATA_SHA256];
  const verdict = recorded !== undefined ? (recorded.toLowerCase() === local.sha256 ? "same" : "different") : checksumVerdict(remote, local);
  if (verdict === "unknown") return { action: "upload", reason: "no-sha256-metadata" };
  if (verdict === "different") return { action: "upload", reason: "sha256-differs" };
  return { action: "skip" };
}

/**
 * The decision when the local hash cannot change it: nothing in S3, or an object of another size.
 * Undefined when S3 holds an object of the same size: only then may the bytes already be there, so
 * only then is a file hashed before it is sent (otherwise it is hashed while it is sent).
 */
export function decideBySize(size: number, remote: RemoteHead | undefined): FileDecision | undefined {
  if (remote === undefined) return { action: "upload", reason: "missing" };
  if (remote.size !== size) return { action: "upload", reason: "size-differs" };
  return undefined;
}

/**
 * Part size for a multipart upload: 8 MiB like the AWS CLI's default (S3's minimum is 5 MiB), grown
 * for huge files so no upload needs more than S3's 10,000 parts.
 */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

export function partSizeFor(size: number, preferred = DEFAULT_PART_SIZE): number {
  const MiB = 1024 * 1024;
  const needed = Math.ceil(size / MAX_PARTS);
  return Math.max(preferred, Math.ceil(needed / MiB) * MiB);
}
