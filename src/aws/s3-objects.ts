/**
 * Counting and removing every object version of a bucket, for `infra destroy`: S3 deletes only an
 * empty bucket, and a bucket that once had versioning keeps old versions and delete markers that a
 * plain ListObjectsV2 never shows.
 */
import type { AwsClients } from "./clients.js";

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
