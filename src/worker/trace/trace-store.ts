import { createHash } from "node:crypto";
import type { AwsClients } from "../../aws/clients.js";
import { createS3Transfer, type S3Transfer } from "../../aws/s3-transfer.js";

/** Where a worker leaves its trace (`checkpoints/logs/` of the project's bucket). */
export interface TraceStore {
  put(key: string, body: string, contentType: string, signal?: AbortSignal): Promise<void>;
}

/**
 * The project's bucket through the S3 transfer every other upload uses: the S3 client adds
 * ExpectedBucketOwner (a worker never writes its log into a same-named bucket of another account),
 * and the SHA-256 sent along lets S3 refuse a body damaged on the way.
 */
export function s3TraceStore(clients: AwsClients, bucket: string): TraceStore {
  let transfer: Promise<S3Transfer> | undefined;
  return {
    async put(key, body, contentType, signal) {
      const bytes = Buffer.from(body, "utf8");
      const s3 = await (transfer ??= createS3Transfer(clients).catch((error: unknown) => {
        transfer = undefined; // not cached: the next write tries again
        throw error;
      }));
      const sha256Hex = createHash("sha256").update(bytes).digest("hex");
      await s3.putBytes(bucket, key, bytes, { contentType, sha256Hex, ...(signal ? { signal } : {}) });
    },
  };
}
