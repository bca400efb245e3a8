/**
 * The narrow S3 calls synkti makes about its bucket's configuration and lifetime, in plain shapes
 * (no SDK types leak out). Reads answer `undefined` when a setting is absent; other errors propagate
 * for the caller to turn into a SynktiError with context (src/aws/errors.ts).
 */
import type { AwsClients } from "./clients.js";
import { orAbsent } from "./absent.js";
import { opts } from "./shapes.js";

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export interface LifecycleRuleSpec {
  id: string;
  enabled: boolean;
  /** "" = the whole bucket. */
  prefix: string;
  expirationDays?: number;
  abortIncompleteMultipartUploadDays?: number;
}

/** owned: ours; missing: nobody's; forbidden: the global name belongs to another account. */
export type BucketAccess = "owned" | "missing" | "forbidden";

const sdk = () => import("@aws-sdk/client-s3");

export async function headBucket(clients: AwsClients, bucket: string, signal?: AbortSignal): Promise<BucketAccess> {
  const [{ HeadBucketCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }), opts(signal));
    return "owned";
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return "missing";
    if (status === 403) return "forbidden";
    throw error;
  }
}

/** us-east-1 refuses an explicit LocationConstraint; every other region needs one. */
export async function createBucket(clients: AwsClients, bucket: string, region: string): Promise<void> {
  const [{ CreateBucketCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  const location = region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } };
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ...location }));
}

export async function getPublicAccessBlock(clients: AwsClients, bucket: string, signal?: AbortSignal) {
  const [{ GetPublicAccessBlockCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  return orAbsent(["NoSuchPublicAccessBlockConfiguration"], async (): Promise<PublicAccessBlock> => {
    const c = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }), opts(signal))).PublicAccessBlockConfiguration ?? {};
    return {
      blockPublicAcls: c.BlockPublicAcls === true,
      ignorePublicAcls: c.IgnorePublicAcls === true,
      blockPublicPolicy: c.BlockPublicPolicy === true,
      restrictPublicBuckets: c.RestrictPublicBuckets === true,
    };
  });
}

export async function putPublicAccessBlock(clients: AwsClients, bucket: string, block: PublicAccessBlock): Promise<void> {
  const [{ PutPublicAccessBlockCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: block.blockPublicAcls,
        IgnorePublicAcls: block.ignorePublicAcls,
        BlockPublicPolicy: block.blockPublicPolicy,
        RestrictPublicBuckets: block.restrictPublicBuckets,
      },
    }),
  );
}

/** The default encryption algorithm ("AES256", "aws:kms", ...), undefined when none is set. */
export async function getDefaultEncryption(clients: AwsClients, bucket: string, signal?: AbortSignal) {
  const [{ GetBucketEncryptionCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  return orAbsent(["ServerSideEncryptionConfigurationNotFoundError"], async () => {
    const out = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }), opts(signal));
    return out.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm as string | undefined;
  });
}

export async function putDefaultEncryption(clients: AwsClients, bucket: string, algorithm: string): Promise<void> {
  const [{ PutBucketEncryptionCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: algorithm as never } }] },
    }),
  );
}

/** The bucket policy as JSON text, undefined when the bucket has none. */
export async function getBucketPolicy(clients: AwsClients, bucket: string, signal?: AbortSignal) {
  const [{ GetBucketPolicyCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  return orAbsent(["NoSuchBucketPolicy"], async () => (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }), opts(signal))).Policy);
}

export async function putBucketPolicy(clients: AwsClients, bucket: string, policy: unknown): Promise<void> {
  const [{ PutBucketPolicyCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
}

export async function getLifecycleRules(clients: AwsClients, bucket: string, signal?: AbortSignal) {
  const [{ GetBucketLifecycleConfigurationCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  return orAbsent(["NoSuchLifecycleConfiguration"], async (): Promise<LifecycleRuleSpec[]> => {
    const out = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }), opts(signal));
    return (out.Rules ?? []).map((rule) => ({
      id: rule.ID ?? "",
      enabled: rule.Status === "Enabled",
      prefix: rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? rule.Prefix ?? "",
      ...(rule.Expiration?.Days !== undefined ? { expirationDays: rule.Expiration.Days } : {}),
      ...(rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined
        ? { abortIncompleteMultipartUploadDays: rule.AbortIncompleteMultipartUpload.DaysAfterInitiation }
        : {}),
    }));
  });
}

/** Replaces the whole lifecycle configuration (S3 has no per-rule call). */
export async function putLifecycleRules(clients: AwsClients, bucket: string, rules: LifecycleRuleSpec[]): Promise<void> {
  const [{ PutBucketLifecycleConfigurationCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: rules.map((rule) => ({
          ID: rule.id,
          Status: rule.enabled ? "Enabled" : "Disabled",
          Filter: { Prefix: rule.prefix },
          ...(rule.expirationDays !== undefined ? { Expiration: { Days: rule.expirationDays } } : {}),
          ...(rule.abortIncompleteMultipartUploadDays !== undefined
            ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.abortIncompleteMultipartUploadDays } }
            : {}),
        })),
      },
    }),
  );
}

export async function getBucketTags(clients: AwsClients, bucket: string, signal?: AbortSignal): Promise<Record<string, string>> {
  const [{ GetBucketTaggingCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  const tagSet = await orAbsent(["NoSuchTagSet"], async () => (await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }), opts(signal))).TagSet);
  return Object.fromEntries((tagSet ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
}

/** Replaces all tags: callers pass the merged set so tags others added survive. */
export async function putBucketTags(clients: AwsClients, bucket: string, tags: Record<string, string>): Promise<void> {
  const [{ PutBucketTaggingCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet } }));
}

export async function deleteBucketPolicy(clients: AwsClients, bucket: string): Promise<void> {
  const [{ DeleteBucketPolicyCommand }, s3] = await Promise.all([sdk(), clients.s3()]);
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
}
