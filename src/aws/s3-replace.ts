/**
 * The deployer's half of S3's compare-and-swap (the other half, putIfAbsent and readIfChanged, is
 * s3-conditional.ts, shared with the workers): replace a small document only if it is still the
 * version read (`If-Match: <etag>`), and delete a key. Used for cluster/desired.json, which only
 * the deployer writes, and for the claims of a launch it undoes. The S3 client adds
 * ExpectedBucketOwner to every request (bucket-owner.ts).
 */
import type { AwsClients } from "./clients.js";
import { awsErrorName, awsHttpStatus } from "./errors.js";
import { opts } from "./shapes.js";

const sdk = () => import("@aws-sdk/client-s3");

/** "replaced": written; "changed": the object is no longer the version `etag` names (rewritten: 412, or deleted: 404), nothing was written. */
export type PutIfMatchOutcome = "replaced" | "changed";

export interface ReplaceObjects {
  putIfMatch(bucket: string, key: string, body: string, etag: string, signal?: AbortSignal): Promise<PutIfMatchOutcome>;
  /** Deleting a missing key is not an error (S3 answers 204 either way). */
  remove(bucket: string, key: string, signal?: AbortSignal): Promise<void>;
}

/** 409 ConditionalRequestConflict: another conditional write to the key was in flight; someone else wrote. */
const LOST = new Set(["PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"]);

export function createReplaceObjects(clients: AwsClients): ReplaceObjects {
  return {
    async putIfMatch(bucket, key, body, etag, signal) {
      const [{ PutObjectCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json", IfMatch: etag }), opts(signal));
        return "replaced";
      } catch (error) {
        const status = awsHttpStatus(error);
        if (LOST.has(awsErrorName(error)) || status === 412 || status === 409) return "changed";
        throw error;
      }
    },
    async remove(bucket, key, signal) {
      const [{ DeleteObjectCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), opts(signal));
    },
  };
}
