import type { S3Client } from "@aws-sdk/client-s3";
import { doing } from "./errors.js";

/**
 * Every S3 request carries ExpectedBucketOwner = the caller's own account. Bucket names are
 * global: if `<project>-models` were ever created by another account (deleted and re-taken, or
 * taken first), AWS then refuses with 403 instead of synkti uploading weights into, or running a
 * binary from, a stranger's bucket. Requests whose operation has no such field (CreateBucket,
 * ListBuckets) leave it out when serialized.
 */
export function expectOwnAccount(s3: S3Client, accountId: () => Promise<string>): S3Client {
  s3.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { ExpectedBucketOwner?: string; CopySource?: string; ExpectedSourceBucketOwner?: string };
      if (input.ExpectedBucketOwner === undefined) {
        // A credentials failure stays one (expired token, none at all), not an S3 refusal.
        const account = await doing("asking AWS STS whose credentials these are", accountId);
        if (account) input.ExpectedBucketOwner = account;
        // A server-side copy reads from a bucket too: the same rule for its source.
        if (account && input.CopySource !== undefined && input.ExpectedSourceBucketOwner === undefined) input.ExpectedSourceBucketOwner = account;
      }
      return next(args);
    },
    { step: "initialize", name: "synktiExpectedBucketOwner" },
  );
  return s3;
}
