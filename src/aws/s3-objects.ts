/**
 * Object-level S3 calls.
 * - Counting and removing every object version of a bucket, for `infra destroy`: S3 deletes only an
 *   empty bucket, and a bucket that once had versioning keeps old versions and delete markers that
 *   a plain ListObjectsV2 never shows.
 * - Bounded reads of what workers leave behind (failure records and logs), for `status` and `logs`.
 */
import type { AwsClients } from "./clients.js";
import { awsErrorName } from "./errors.js";
import { contentRangeTotal, opts } from "./shapes.js";

const sdk = () => import("@aws-sdk/client-s3");

interface VersionRef {
  Key: string;
  VersionId?: string;
}

/** Pages through every version and delete marker, handing each page (at most 1000) to `each`. */
async function forEachVersionPage(
  clients: AwsClients,
  bucket: string,
  each: (page: VersionRef[]) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const [{ ListObjectVersionsCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const out = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }),
      signal ? { abortSignal: signal } : {},
    );
    const page = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]
      .filter((v) => v.Key !== undefined)
      .map((v) => ({ Key: v.Key as string, ...(v.VersionId ? { VersionId: v.VersionId } : {}) }));
    if (page.length > 0) await each(page);
    if (!out.IsTruncated) return;
    KeyMarker = out.NextKeyMarker;
    VersionIdMarker = out.NextVersionIdMarker;
  }
}

/** Object versions plus delete markers: what `destroy` has to remove before the bucket can go. */
export async function countObjectVersions(clients: AwsClients, bucket: string, signal?: AbortSignal): Promise<number> {
  let count = 0;
  await forEachVersionPage(
    clients,
    bucket,
    async (page) => {
      count += page.length;
    },
    signal,
  );
  return count;
}

/** Deletes every version and delete marker; returns how many. Fails on the first refused key. */
export async function emptyBucket(clients: AwsClients, bucket: string): Promise<number> {
  const [{ DeleteObjectsCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  let deleted = 0;
  await forEachVersionPage(clients, bucket, async (page) => {
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: page, Quiet: true } }));
    const first = out.Errors?.[0];
    if (first) {
      throw Object.assign(new Error(`could not delete s3://${bucket}/${first.Key}: ${first.Message}`), { name: first.Code ?? "DeleteFailed" });
    }
    deleted += page.length;
  });
  return deleted;
}

export async function deleteBucket(clients: AwsClients, bucket: string): Promise<void> {
  const [{ DeleteBucketCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** One object of a listing, in plain shape. */
export interface ObjectListing {
  key: string;
  size: number;
  lastModified: Date | undefined;
}

/** A bounded read: at most `maxBytes`, from the start or the end of the object. */
export interface BoundedRead {
  bytes: Uint8Array;
  /** The object's whole size, so a caller can say what it left out. */
  totalSize: number;
}

/**
 * Reads of objects other machines wrote (a worker's failure record and log): listed with their
 * LastModified, and read with a byte range so a huge or hostile object never costs more than the
 * cap. Not-found (key or bucket) is a value; every other error propagates for the caller to report.
 */
export interface ObjectReader {
  /** Keys under `prefix`, following continuation tokens up to `maxKeys`; `truncated` when more are left. */
  list(bucket: string, prefix: string, options: { maxKeys: number }, signal?: AbortSignal): Promise<{ objects: ObjectListing[]; truncated: boolean } | "no-bucket">;
  /** undefined: no such key (or bucket). */
  read(bucket: string, key: string, options: { maxBytes: number; from: "start" | "end" }, signal?: AbortSignal): Promise<BoundedRead | undefined>;
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchBucket"]);

export function createObjectReader(clients: AwsClients): ObjectReader {
  return {
    async list(bucket, prefix, { maxKeys }, signal) {
      const [{ ListObjectsV2Command }, s3] = await Promise.all([sdk(), clients.s3()]);
      const objects: ObjectListing[] = [];
      let ContinuationToken: string | undefined;
      try {
        for (;;) {
          const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }), opts(signal));
          for (const o of out.Contents ?? []) if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified });
          if (!out.IsTruncated || !out.NextContinuationToken) return { objects, truncated: false };
          if (objects.length >= maxKeys) return { objects, truncated: true };
          ContinuationToken = out.NextContinuationToken;
        }
      } catch (error) {
        if (awsErrorName(error) === "NoSuchBucket") return "no-bucket";
        throw error;
      }
    },

    async read(bucket, key, { maxBytes, from }, signal) {
      const [{ GetObjectCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
      const Range = from === "start" ? `bytes=0-${maxBytes - 1}` : `bytes=-${maxBytes}`;
      let out;
      try {
        out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range }), opts(signal));
      } catch (error) {
        const name = awsErrorName(error);
        if (NOT_FOUND.has(name)) return undefined;
        if (name === "InvalidRange") return { bytes: new Uint8Array(0), totalSize: 0 }; // S3's answer for an empty object
        throw error;
      }
      const bytes = await readAtMost(out.Body as AsyncIterable<Uint8Array> | undefined, maxBytes);
      // "bytes 0-4095/12345": the whole size is after the slash (absent when the range was ignored).
      const total = contentRangeTotal(out.ContentRange) ?? out.ContentLength ?? bytes.length;
      return { bytes, totalSize: Number.isFinite(total) ? total : bytes.length };
    },
  };
}

/** Stops reading (and closes the stream) at `max` bytes, even if the server sent more. */
export async function readAtMost(body: AsyncIterable<Uint8Array> | undefined, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = max - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (size >= max) break; // leaving the loop destroys the stream
  }
  return Buffer.concat(chunks, size);
}
