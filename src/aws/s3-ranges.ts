import type { AwsClients } from "./clients.js";
import { isSynktiError } from "../core/errors.js";
import { classifyAwsError, toSynktiError } from "./errors.js";
import { contentRangeTotal, opts } from "./shapes.js";

/**
 * Ranged GETs, for the worker's weights fetch (src/worker/weights): many at once, each streamed
 * into its place on disk. Through the ordinary S3 client, so every request carries
 * ExpectedBucketOwner (bucket-owner.ts) and the deadlines of clients.ts: the answer deadline ends
 * at the response headers, the body then flows under the idle deadline only. A missing object is a
 * value (undefined): the caller names the file and the fix; other failures become SynktiErrors.
 */
export interface ObjectRange {
  /** The bytes, in order; exactly `end - start` of them unless the stream fails. */
  body: AsyncIterable<Uint8Array>;
  /** The whole object's size (from Content-Range), when S3 said it. */
  objectSize?: number;
}

export interface RangeReader {
  /** Bytes [start, end) of s3://bucket/key; `end` > `start`. */
  getRange(bucket: string, key: string, range: { start: number; end: number }, signal?: AbortSignal): Promise<ObjectRange | undefined>;
}

export async function createRangeReader(clients: AwsClients): Promise<RangeReader> {
  const [s3, sdk] = await Promise.all([clients.s3(), import("@aws-sdk/client-s3")]);
  return {
    async getRange(bucket, key, { start, end }, signal) {
      try {
        const out = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }), opts(signal));
        const total = contentRangeTotal(out.ContentRange);
        return {
          body: (out.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})(),
          ...(total !== undefined ? { objectSize: total } : {}),
        };
      } catch (error) {
        if (signal?.aborted || isSynktiError(error)) throw error;
        if (classifyAwsError(error) === "not-found") return undefined;
        throw toSynktiError(error, `downloading bytes ${start}-${end - 1} of s3://${bucket}/${key}`);
      }
    },
  };
}
