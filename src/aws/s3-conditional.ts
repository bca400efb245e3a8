/**
 * S3's conditional requests, for the few objects several machines race for or poll: a claim
 * (created once, by exactly one of many callers) and a small document read again and again (only
 * when it changed). Plain shapes out; the S3 client adds ExpectedBucketOwner to every request
 * (bucket-owner.ts), so a claim never lands in, and a document is never read from, a stranger's
 * bucket.
 */
import type { AwsClients } from "./clients.js";
import { awsErrorName, awsHttpStatus } from "./errors.js";
import { readAtMost } from "./s3-objects.js";
import { opts } from "./shapes.js";

const sdk = () => import("@aws-sdk/client-s3");

/** "created": this call made the object; "exists": someone had (412), nothing was written. */
export type PutIfAbsentOutcome = "created" | "exists";

/** A bounded, conditional read of a small document. */
export type ConditionalRead =
  | { kind: "absent" }
  /** Same ETag as the caller's: S3 sent no body (304). */
  | { kind: "unchanged" }
  | { kind: "changed"; text: string; etag: string | undefined; size: number };

export interface ConditionalObjects {
  /**
   * PutObject with `If-None-Match: *`: S3 creates the key only if no object has it, atomically, so
   * of many callers racing for one key exactly one gets "created". A 409
   * (ConditionalRequestConflict: a concurrent conditional write was in flight) is asked again:
   * the other write has then either landed ("exists") or not (this one may create it).
   */
  putIfAbsent(bucket: string, key: string, body: string, signal?: AbortSignal): Promise<PutIfAbsentOutcome>;
  /**
   * GetObject with `If-None-Match: <etag>` when the caller has one: S3 answers 304 without a body
   * when the object did not change. At most `maxBytes + 1` bytes are read (a Range), so an oversized
   * object costs nothing and its `size` tells the caller to refuse it.
   */
  readIfChanged(bucket: string, key: string, options: { etag?: string; maxBytes: number }, signal?: AbortSignal): Promise<ConditionalRead>;
}

const CONFLICT_RETRIES = 3;
const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchBucket"]);

export function createConditionalObjects(clients: AwsClients): ConditionalObjects {
  return {
    async putIfAbsent(bucket, key, body, signal) {
      const [{ PutObjectCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
      for (let attempt = 1; ; attempt++) {
        try {
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json", IfNoneMatch: "*" }), opts(signal));
          return "created";
        } catch (error) {
          const status = awsHttpStatus(error);
          if (status === 412 || awsErrorName(error) === "PreconditionFailed") return "exists";
          if ((status === 409 || awsErrorName(error) === "ConditionalRequestConflict") && attempt < CONFLICT_RETRIES) continue;
          throw error;
        }
      }
    },

    async readIfChanged(bucket, key, { etag, maxBytes }, signal) {
      const [{ GetObjectCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
      let out;
      try {
        out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes}`, ...(etag ? { IfNoneMatch: etag } : {}) }), opts(signal));
      } catch (error) {
        if (awsHttpStatus(error) === 304 || awsErrorName(error) === "NotModified") return { kind: "unchanged" };
        if (NOT_FOUND.has(awsErrorName(error)) || awsHttpStatus(error) === 404) return { kind: "absent" };
        // An empty object has no byte 0: S3 refuses the range. An empty document, not an error.
        if (awsErrorName(error) === "InvalidRange") return { kind: "changed", text: "", etag: undefined, size: 0 };
        throw error;
      }
      const text = Buffer.from(await readAtMost(out.Body as AsyncIterable<Uint8Array> | undefined, maxBytes + 1)).toString("utf8");
      const total = Number(/\/(\d+)$/.exec(out.ContentRange ?? "")?.[1] ?? out.ContentLength ?? text.length);
      return { kind: "changed", text, etag: out.ETag, size: Number.isFinite(total) ? total : text.length };
    },
  };
}
