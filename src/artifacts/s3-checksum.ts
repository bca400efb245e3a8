import { createHash } from "node:crypto";

/**
 * What S3's own SHA-256 checksum of an object proves about its bytes. S3 computes it from the bytes
 * it received (a claim in user metadata is only a claim), and HEAD returns it with ChecksumMode:
 * - an object sent in one PUT has the SHA-256 of its content;
 * - a multipart object has a composite: the SHA-256 of its parts' SHA-256s, with "-<parts>" after
 *   it (S3; moto leaves the suffix out, the ETag's "-<parts>" says it too). Weights go up in parts
 *   of exactly one manifest chunk each (file-batch.ts), so the composite is also the SHA-256 of the
 *   manifest's chunk hashes: a HEAD checks a multipart object against the manifest.
 * "unknown": no checksum, or parts that are not the chunks (another tool's upload).
 */
export type ChecksumVerdict = "same" | "different" | "unknown";

export interface ChecksummedHead {
  checksumSha256?: string;
  etag?: string;
}

export function checksumVerdict(head: ChecksummedHead, want: { sha256: string; chunks?: readonly string[] }): ChecksumVerdict {
  if (!head.checksumSha256) return "unknown";
  const [base64, suffix] = head.checksumSha256.split("-");
  const hex = Buffer.from(base64 ?? "", "base64").toString("hex");
  if (hex.length !== 64) return "unknown";
  const parts = suffix !== undefined ? Number(suffix) : partsOf(head.etag);
  if (parts === undefined) return hex === want.sha256 ? "same" : "different";
  if (!want.chunks || want.chunks.length !== parts || !Number.isInteger(parts)) return "unknown";
  return compositeSha256(want.chunks) === hex ? "same" : "different";
}

/** The composite S3 stores for a multipart object whose parts hash to `partHashes` (hex). */
export function compositeSha256(partHashes: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of partHashes) hash.update(Buffer.from(part, "hex"));
  return hash.digest("hex");
}

/** A multipart object's ETag ends in "-<parts>" (quoted or not); a single PUT's never does. */
function partsOf(etag: string | undefined): number | undefined {
  const match = etag ? /-(\d+)"?$/.exec(etag) : null;
  return match ? Number(match[1]) : undefined;
}
