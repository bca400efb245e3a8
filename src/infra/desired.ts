/**
 * What the permanent infrastructure must look like, derived from the project's names and the
 * account. Pure; the planner compares it with observations. terraform/ declares the same values
 * (test/unit/infra/terraform.test.ts keeps them equal).
 */
import type { LifecycleRuleSpec, PublicAccessBlock } from "../aws/s3.js";
import { clusterTags, type ProjectNames } from "./names.js";
import { bucketPolicy, policyVars, trustPolicy, workerPolicy, type AccountContext, type PolicyDocument } from "./policies.js";
import { PEER_PORTS } from "./ports.js";

/** Checkpoints are runtime state of a running cluster; a week-old one is garbage, not a backup. */
export const CHECKPOINT_EXPIRY_DAYS = 7;
/** A multipart upload (weights, binary) unfinished after a week will never finish; its parts cost. */
export const ABORT_MULTIPART_DAYS = 7;

/**
 * SSE-S3 (AES256), not SSE-KMS: the weights are (mostly public) model files; KMS would add a key to
 * manage and keep in sync with terraform, kms:Decrypt grants in the worker policy, and a KMS request
 * per GET while every new worker pulls gigabytes. Encryption at rest is the same; what KMS adds
 * (separate key policy, key-usage audit) does not pay for itself here.
 */
export const BUCKET_ENCRYPTION = "AES256";

export type { LifecycleRuleSpec, PublicAccessBlock };

export interface IngressSpec {
  protocol: "tcp";
  port: number;
  /** Only peers: the rule's source is the group itself. */
  source: "self";
  description: string;
}

export interface DesiredInfra {
  bucket: {
    name: string;
    region: string;
    publicAccessBlock: PublicAccessBlock;
    encryption: string;
    /**
     * The TLS-only policy; undefined when S3 is plain HTTP (an emulator): every request would then
     * be insecure transport and the policy would deny synkti its own bucket, as AWS would.
     */
    policy: PolicyDocument | undefined;
    lifecycleRules: LifecycleRuleSpec[];
    tags: Record<string, string>;
  };
  role: { name: string; trustPolicy: PolicyDocument; tags: Record<string, string>; description: string };
  rolePolicy: { roleName: string; name: string; document: PolicyDocument };
  instanceProfile: { name: string; roleName: string; tags: Record<string, string> };
  securityGroup: { name: string; region: string; description: string; ingress: IngressSpec[]; tags: Record<string, string> };
}

export const LIFECYCLE_RULE_IDS = {
  checkpoints: "expire-checkpoints",
  multipart: "abort-incomplete-multipart-uploads",
} as const;

export function lifecycleRules(names: ProjectNames): LifecycleRuleSpec[] {
  return [
    { id: LIFECYCLE_RULE_IDS.checkpoints, enabled: true, prefix: names.checkpointsPrefix, expirationDays: CHECKPOINT_EXPIRY_DAYS },
    { id: LIFECYCLE_RULE_IDS.multipart, enabled: true, prefix: "", abortIncompleteMultipartUploadDays: ABORT_MULTIPART_DAYS },
  ];
}

export function desiredInfra(names: ProjectNames, account: AccountContext): DesiredInfra {
  const vars = policyVars(names, account);
  const tags = clusterTags(names.project);
  return {
    bucket: {
      name: names.bucket,
      region: account.region,
      publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true },
      encryption: BUCKET_ENCRYPTION,
      policy: account.plainHttpS3 ? undefined : bucketPolicy(vars),
      lifecycleRules: lifecycleRules(names),
      tags,
    },
    role: {
      name: names.role,
      trustPolicy: trustPolicy(),
      tags,
      description: `synkti workers of project ${names.project}`,
    },
    rolePolicy: { roleName: names.role, name: names.workerPolicy, document: workerPolicy(vars) },
    instanceProfile: { name: names.instanceProfile, roleName: names.role, tags },
    securityGroup: {
      name: names.securityGroup,
      region: account.region,
      description: `synkti workers of project ${names.project}: peers only, no SSH`,
      ingress: PEER_PORTS.map(({ port, description }) => ({ protocol: "tcp", port, source: "self", description })),
      tags,
    },
  };
}
