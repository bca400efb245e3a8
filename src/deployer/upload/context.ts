import type { S3Transfer } from "../../aws/s3-transfer.js";
import { SynktiError } from "../../core/errors.js";
import type { ProjectNames } from "../../infra/names.js";
import { DEFAULT_CONCURRENCY } from "./types.js";

export function regionFlag(region: string | undefined): string {
  return region ? ` --region ${region}` : "";
}

/**
 * Uploading into a bucket that does not exist would fail on the first byte; worse, creating it here
 * would make a permanent resource by accident. `infra up` owns the bucket, so say exactly that.
 */
export async function requireBucket(transfer: S3Transfer, names: ProjectNames, region?: string, signal?: AbortSignal): Promise<void> {
  const access = await transfer.bucketAccess(names.bucket, signal);
  if (access === "owned") return;
  if (access === "forbidden") {
    // Every S3 request expects the caller's own account as the owner: a 403 here is the name's.
    throw new SynktiError(
      `Bucket ${names.bucket} answers 403: another AWS account owns the name (bucket names are global), or these credentials lack s3:ListBucket on it. Nothing was uploaded.`,
      { code: "bucket-forbidden", kind: "unsafe", remedy: `synkti infra status --project-name ${names.project}${regionFlag(region)}` },
    );
  }
  throw new SynktiError(`Missing: bucket ${names.bucket} (the project's permanent storage) does not exist.`, {
    code: "bucket-missing",
    kind: "unsafe",
    remedy: `synkti infra up --project-name ${names.project}${regionFlag(region)}`,
  });
}

export function concurrencyOf(value: number | undefined): number {
  return value ?? DEFAULT_CONCURRENCY;
}

/**
 * Ctrl-C ends an upload with exit 130 and this message. Nothing half-written stays behind (in-flight
 * multipart uploads were aborted) and the manifest is not written, so re-running the same command
 * picks up where this one stopped: files already in S3 with the same SHA-256 are skipped.
 */
export function interruptedUpload(rerun: string, aborted: number): SynktiError {
  const cleaned = aborted > 0 ? `aborted ${aborted} in-flight multipart upload${aborted === 1 ? "" : "s"}` : "nothing was left half-written";
  return new SynktiError(`Interrupted: ${cleaned}. Re-running the same command resumes; files already uploaded are skipped.`, {
    code: "interrupted",
    kind: "interrupted",
    remedy: rerun,
  });
}
