import type { DesiredInfra, LifecycleRuleSpec, PublicAccessBlock } from "./desired.js";
import type { BucketObservation } from "./observe-bucket.js";
import { describeTags, missingTags, step, type BucketChange, type BucketStep } from "./plan-types.js";
import { differingStatements, samePolicy } from "./policy-compare.js";

const FLAGS: Array<[keyof PublicAccessBlock, string]> = [
  ["blockPublicAcls", "BlockPublicAcls"],
  ["ignorePublicAcls", "IgnorePublicAcls"],
  ["blockPublicPolicy", "BlockPublicPolicy"],
  ["restrictPublicBuckets", "RestrictPublicBuckets"],
];

/** Pure: what to do about the bucket, given what was observed. */
export function planBucket(want: DesiredInfra["bucket"], seen: BucketObservation): BucketStep {
  if (seen.state === "foreign") {
    return step("bucket", want.name, true, [], {
      message: `bucket ${want.name} answers 403: another AWS account owns the name (bucket names are global), or these credentials lack s3:ListBucket on it`,
      remedy: "synkti infra up --project-name <another-project-name>",
    });
  }
  if (seen.state === "missing") {
    const reason = "new bucket";
    return step<"bucket", BucketChange>("bucket", want.name, false, [
      { op: "create-bucket", reason: "does not exist" },
      { op: "put-public-access-block", reason },
      { op: "put-encryption", reason },
      { op: "put-lifecycle", reason },
      { op: "put-tags", tags: want.tags, reason },
      ...(want.policy ? [{ op: "put-policy" as const, reason }] : []),
    ]);
  }
  const changes: BucketChange[] = [];
  const block = seen.publicAccessBlock;
  const off = FLAGS.filter(([key]) => block?.[key] !== want.publicAccessBlock[key]).map(([, label]) => label);
  if (!block) changes.push({ op: "put-public-access-block", reason: "public access block is not set" });
  else if (off.length > 0) changes.push({ op: "put-public-access-block", reason: `public access block: ${off.join(", ")} off` });
  if (seen.encryption !== want.encryption) {
    const reason = seen.encryption ? `default encryption is ${seen.encryption}, want ${want.encryption}` : "default encryption is not set";
    changes.push({ op: "put-encryption", reason });
  }
  const lifecycle = lifecycleDrift(want.lifecycleRules, seen.lifecycleRules);
  if (lifecycle) changes.push({ op: "put-lifecycle", reason: lifecycle });
  const tags = missingTags(want.tags, seen.tags);
  if (Object.keys(tags).length > 0) {
    changes.push({ op: "put-tags", tags: { ...seen.tags, ...want.tags }, reason: `tag ${describeTags(tags)} missing` });
  }
  if (want.policy === undefined) {
    // Plain-HTTP endpoint: no TLS-only policy to enforce (see DesiredInfra); leave whatever is there.
  } else if (seen.policy === undefined) changes.push({ op: "put-policy", reason: "bucket policy (TLS only) is missing" });
  else if (!samePolicy(seen.policy, want.policy)) {
    changes.push({ op: "put-policy", reason: `bucket policy differs (${differingStatements(want.policy, seen.policy).join(", ")})` });
  }
  return step("bucket", want.name, true, changes);
}

/** The lifecycle configuration is synkti's whole: any missing, changed or extra rule is drift. */
function lifecycleDrift(want: LifecycleRuleSpec[], have: LifecycleRuleSpec[] | undefined): string | undefined {
  if (!have || have.length === 0) return "lifecycle rules are not set";
  const key = (rule: LifecycleRuleSpec) =>
    JSON.stringify([rule.id, rule.enabled, rule.prefix, rule.expirationDays, rule.abortIncompleteMultipartUploadDays]);
  const problems: string[] = [];
  for (const rule of want) {
    const same = have.find((h) => h.id === rule.id);
    if (!same) problems.push(`rule ${rule.id} missing`);
    else if (key(same) !== key(rule)) problems.push(`rule ${rule.id} changed`);
  }
  for (const rule of have) if (!want.some((w) => w.id === rule.id)) problems.push(`unexpected rule ${rule.id || "(no id)"}`);
  return problems.length > 0 ? `lifecycle: ${problems.join(", ")}` : undefined;
}
