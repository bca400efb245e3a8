import type { S3Client } from "@aws-sdk/client-s3";
import type { FinalizeRequestMiddleware } from "@aws-sdk/types";

/**
 * A request body that carries `x-amz-checksum-sha256` has already been hashed: by synkti, which
 * gives that checksum with every PUT and multipart part it sends (s3-transfer.ts), else by the SDK's
 * checksum step. SigV4's payload hash (`x-amz-content-sha256`) is the SHA-256 of the same bytes,
 * hex instead of base64.
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
