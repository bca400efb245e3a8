/**
 * One place where the local cloud bends moto instead of the code under test.
 *
 * `synkti infra up` gives the bucket a DenyInsecureTransport statement (Deny s3:* when
 * aws:SecureTransport is false): right for AWS. moto enforces bucket policies but ignores their
 * conditions, so that statement denies every S3 call there, over any transport, and nothing after
 * `infra up` (uploads, the instances' downloads) could work. The local cloud speaks plain http on
 * loopback where AWS speaks TLS, so its requests count as secure transport: `allowLoopbackTransport`
 * re-puts each bucket policy without the statements that only deny insecure transport (or deletes
 * the policy when nothing else is in it). Any other statement stays as `infra up` wrote it.
 */
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, ListBucketsCommand, PutBucketPolicyCommand, type S3Client } from "@aws-sdk/client-s3";

interface Statement {
  Effect?: string;
  Condition?: Record<string, Record<string, unknown>>;
}

/** True for a Deny whose only condition is aws:SecureTransport = false. */
export function deniesOnlyInsecureTransport(statement: Statement): boolean {
  if (statement.Effect !== "Deny" || !statement.Condition) return false;
  const operators = Object.entries(statement.Condition);
  if (operators.length !== 1) return false;
  const [operator, keys] = operators[0]!;
  const entries = Object.entries(keys);
  return operator === "Bool" && entries.length === 1 && entries[0]![0] === "aws:SecureTransport" && String(entries[0]![1]) === "false";
}

/** Strips insecure-transport denies from the buckets' policies (default: every bucket); returns those changed. */
export async function allowLoopbackTransport(s3: S3Client, buckets?: string[]): Promise<string[]> {
  const names = buckets ?? ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).flatMap((b) => (b.Name ? [b.Name] : []));
  const changed: string[] = [];
  for (const bucket of names) {
    let policy: { Statement?: Statement[] | Statement };
    try {
      const answer = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      policy = JSON.parse(answer.Policy ?? "{}");
    } catch {
      continue; // no policy (NoSuchBucketPolicy), or the bucket went away meanwhile
    }
    const statements = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : [];
    const kept = statements.filter((s) => !deniesOnlyInsecureTransport(s));
    if (kept.length === statements.length) continue;
    if (kept.length === 0) await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    else await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ ...policy, Statement: kept }) }));
    changed.push(bucket);
  }
  return changed;
}
