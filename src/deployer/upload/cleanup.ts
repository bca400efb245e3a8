import type { S3Transfer } from "../../aws/s3-transfer.js";
import type { Logger } from "../../core/log.js";

/**
 * Incomplete multipart uploads are invisible in listings but billed for their parts. synkti never
 * resumes one (a re-run restarts the file: simpler, and every part would have to be re-verified
 * anyway); it aborts them instead: its own after Ctrl-C or a failure, and leftovers of a killed
 * run (kill -9, laptop lid) under the same prefix at the start of the next run. A bucket lifecycle
 * rule (AbortIncompleteMultipartUpload) is the backstop for prefixes nobody uploads to again.
 *
 * `keys` limits the sweep to the keys this run writes: model "org" must never abort an upload of
 * model "org/name", which shares its prefix, nor the binary's sweep touch other bin/ objects.
 */
export async function abortIncompleteUploads(
  transfer: S3Transfer,
  log: Logger,
  bucket: string,
  prefix: string,
  keys: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<number> {
  const found = await transfer.listIncompleteUploads(bucket, prefix, signal);
  const mine = found.filter((u) => keys.has(u.key));
  await Promise.all(mine.map((u) => transfer.abortIncompleteUpload(bucket, u)));
  if (mine.length > 0) log.info({ bucket, prefix, keys: mine.map((u) => u.key) }, `aborted ${mine.length} incomplete multipart upload(s)`);
  return mine.length;
}

/** After Ctrl-C or a failure: the same sweep, never letting a cleanup failure hide the real error. */
export async function abortQuietly(transfer: S3Transfer, log: Logger, bucket: string, prefix: string, keys: ReadonlySet<string>): Promise<number> {
  try {
    return await abortIncompleteUploads(transfer, log, bucket, prefix, keys);
  } catch (error) {
    log.warn({ err: error, bucket, prefix }, "could not abort incomplete multipart uploads; the bucket lifecycle rule will");
    return 0;
  }
}
