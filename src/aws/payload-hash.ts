import type { S3Client } from "@aws-sdk/client-s3";
import type { FinalizeRequestMiddleware, InitializeMiddleware } from "@aws-sdk/types";

/**
 * A request body that carries `x-amz-checksum-sha256` (whole PUTs and every part of a multipart
 * upload: ChecksumAlgorithm SHA256) has already been hashed by the SDK's checksum step, and SigV4's
 * payload hash (`x-amz-content-sha256`) is the SHA-256 of the same bytes, hex instead of base64.
 * Without this the signer hashes every body a second time: one full SHA-256 pass over the weights
 * on the uploader's main thread (measured: ~0.18 s CPU per 300 MiB here). The signature still
 * covers the real payload hash, and S3 still checks both against the bytes it receives. Bodies sent
 * aws-chunked (checksum in a trailer, no header) are left to the signer.
 */
export function reuseChecksumAsPayloadHash(s3: S3Client): S3Client {
  const reuse: FinalizeRequestMiddleware<any, any> = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    const headers = request.headers;
    const checksum = headers?.["x-amz-checksum-sha256"];
    if (headers && checksum && headers["x-amz-content-sha256"] === undefined && !/aws-chunked/i.test(headers["content-encoding"] ?? "")) {
      headers["x-amz-content-sha256"] = Buffer.from(checksum, "base64").toString("hex");
    }
    return next(args);
  };
  s3.middlewareStack.addRelativeTo(reuse, { relation: "before", toMiddleware: "httpSigningMiddleware", name: "synktiReuseChecksumAsPayloadHash" });
  return s3;
}

/** SHA-256 (hex) of part N of an object being uploaded, when the caller has already hashed it. */
export type PartSha256 = (partNumber: number) => string | undefined;

const knownParts = new WeakMap<S3Client, Map<string, PartSha256>>();

/**
 * Lets an uploader that hashes its bytes on the way out (parts = its manifest chunks) hand those
 * hashes to the SDK as each UploadPart's `ChecksumSHA256`: the SDK's checksum step then skips its
 * own pass over the part (it computes one only when no x-amz-checksum-* header is set), and with
 * reuseChecksumAsPayloadHash the signer skips its pass too. S3 checks every part against the value,
 * so a part that is not the chunk that was hashed is refused. A part whose hash is not ready
 * (the last, partial chunk) is hashed by the SDK as before. Returns register(bucket, key, lookup),
 * which returns the unregister.
 */
export function partChecksums(s3: S3Client): (bucket: string, key: string, lookup: PartSha256) => () => void {
  let registry = knownParts.get(s3);
  if (!registry) {
    const parts = (registry = new Map());
    knownParts.set(s3, parts);
    const provide: InitializeMiddleware<any, any> = (next) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string; UploadId?: string; PartNumber?: number; ChecksumSHA256?: string };
      if (input.UploadId !== undefined && input.PartNumber !== undefined && input.ChecksumSHA256 === undefined) {
        const hex = parts.get(`${input.Bucket}/${input.Key}`)?.(input.PartNumber);
        if (hex) input.ChecksumSHA256 = Buffer.from(hex, "hex").toString("base64");
      }
      return next(args);
    };
    s3.middlewareStack.add(provide, { step: "initialize", name: "synktiKnownPartChecksums" });
  }
  const parts = registry;
  return (bucket, key, lookup) => {
    const id = `${bucket}/${key}`;
    parts.set(id, lookup);
    return () => {
      if (parts.get(id) === lookup) parts.delete(id);
    };
  };
}
