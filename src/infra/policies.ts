/**
 * The IAM documents live once, as JSON templates in policies/, and are read by both paths:
 * `synkti infra up` renders them here, terraform/ with templatefile() (same placeholder syntax).
 * The JSON is imported (not read from disk) so it is bundled into the single binary.
 *
 * Why the worker policy looks as it does (JSON has no comments; the README's "The worker's
 * permissions" has the whole table, and test/unit/infra/policy-proof.test.ts proves it offline):
 * - S3, all in this account (s3:ResourceAccount: a same-named bucket of another account is refused):
 *   read the whole bucket (the model is chosen at launch, after this permanent policy exists, so no
 *   model prefix can be named here); write only checkpoints/logs/ and checkpoints/failovers/;
 *   create (s3:if-none-match = *) checkpoints/claims/ and checkpoints/repair/, never overwrite
 *   them; nothing else (cluster/desired.json is the deployer's), no deletes. No
 *   s3:AbortMultipartUpload: checkpoints are small, and the lifecycle rule aborts stale uploads.
 * - ec2:Describe* have no resource-level permissions in AWS: "Resource": "*" is the only option.
 *   Peers are found with DescribeInstances; a replacement launch picks a zone, subnet and image; a
 *   rebalance reads the type's vCPUs (DescribeInstanceTypes) and the spot quota (Service Quotas).
 * - CreateTags: on the project's workers, only the keys a worker writes about itself
 *   (WORKER_SELF_TAG_KEYS); during RunInstances only (ec2:CreateAction), only the launch's keys
 *   (LAUNCH_TAG_KEYS) with SynktiCluster/SynktiRole right. Never a membership key on an existing
 *   instance, so nothing can be moved out of reach of `down` and `leaks`.
 * - RunInstances: the new instance must carry SynktiCluster=<project> and SynktiRole=worker, use
 *   this project's instance profile, IMDSv2, the project's security group (by tag; it pins the VPC)
 *   and an image of Amazon, the Deep Learning AMIs or this account (workerImageOwners). No key-pair
 *   resource: workers have no SSH (Session Manager instead), so a keyed launch must fail. Spot only
 *   (ec2:InstanceMarketType) and, once `infra up --instance-types` named them, only those types
 *   (ec2:InstanceType): compute-policy.ts adds and reads these two conditions.
 * - TerminateInstances only on the project's workers; PassRole only of this role, only to EC2.
 * - Session Manager: ssm:UpdateInstanceInformation on instances; ssmmessages has no resource types.
 * - Load balancer: a worker registers and deregisters itself (RegisterTargets, DeregisterTargets)
 *   in the project's target group only (the ARN ends in an id AWS picks, hence `/*` after the
 *   name). ELBv2's Describe* actions have no resource-level permissions (Service Authorization
 *   Reference: no resource type), so DescribeTargetGroups (the worker learns its target group's
 *   ARN by name) and DescribeTargetHealth (it waits for its own target to be healthy, and drained)
 *   can only be granted on "*"; they read, never change.
 * - The API key: ssm:GetParameter on its one parameter. No kms:Decrypt: the SecureString is
 *   encrypted with the AWS-managed key aws/ssm, whose key policy lets every principal of the
 *   account decrypt through SSM (AWS Systems Manager user guide, "Restricting decryption of
 *   SecureString parameter values"); a customer-managed key would need a kms:Decrypt grant here.
 */
import bucketPolicyTemplate from "../../policies/bucket-policy.json" with { type: "json" };
import trustPolicyTemplate from "../../policies/ec2-trust-policy.json" with { type: "json" };
import workerPolicyTemplate from "../../policies/worker-policy.json" with { type: "json" };
import type { ProjectNames } from "./names.js";

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

/** Paths relative to the repository root; terraform/ must load exactly these (unit-tested). */
export const POLICY_FILES = {
  trust: "policies/ec2-trust-policy.json",
  worker: "policies/worker-policy.json",
  bucket: "policies/bucket-policy.json",
} as const;

export const POLICY_TEMPLATES = {
  trust: trustPolicyTemplate as unknown,
  worker: workerPolicyTemplate as unknown,
  bucket: bucketPolicyTemplate as unknown,
} as const;

/** Where the account is: from STS GetCallerIdentity (account, partition) and the region in use. */
export interface AccountContext {
  accountId: string;
  partition: string;
  region: string;
  /** S3 over plain HTTP (an emulator): a TLS-only bucket policy would lock synkti out of its bucket. */
  plainHttpS3?: boolean;
}

/** The placeholders the templates may use; terraform's templatefile() gets the same keys. */
export interface PolicyVars {
  partition: string;
  region: string;
  account_id: string;
  project: string;
  bucket: string;
  role: string;
  /** The worker instance profile's name: a replacement may only be launched with it (ec2:InstanceProfile). */
  instance_profile: string;
  checkpoints_prefix: string;
  target_group: string;
  /** Starts with "/" (`/synkti/<project>/api-key`), as the parameter's ARN wants it after `parameter`. */
  api_key_parameter: string;
}

export function policyVars(names: ProjectNames, account: AccountContext): PolicyVars {
  return {
    partition: account.partition,
    region: account.region,
    account_id: account.accountId,
    project: names.project,
    bucket: names.bucket,
    role: names.role,
    instance_profile: names.instanceProfile,
    checkpoints_prefix: names.checkpointsPrefix,
    target_group: names.targetGroup,
    api_key_parameter: names.apiKeyParameter,
  };
}

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** Fills `${name}` in every string (keys included); an unknown placeholder is a bug, not a blank. */
export function renderTemplate(template: unknown, vars: PolicyVars): PolicyDocument {
  const values = vars as unknown as Record<string, string>;
  const fill = (text: string) =>
    text.replace(PLACEHOLDER, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`policy template uses unknown placeholder \${${name}}`);
      return value;
    });
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return fill(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [fill(k), walk(v)]));
    }
    return value;
  };
  return walk(template) as PolicyDocument;
}

/** Every placeholder name a template uses (for the terraform consistency test). */
export function placeholdersOf(template: unknown): string[] {
  const found = new Set<string>();
  for (const match of JSON.stringify(template).matchAll(PLACEHOLDER)) found.add(match[1] ?? "");
  return [...found].sort();
}

export function trustPolicy(): PolicyDocument {
  return structuredClone(POLICY_TEMPLATES.trust) as PolicyDocument;
}

export function workerPolicy(vars: PolicyVars): PolicyDocument {
  return renderTemplate(POLICY_TEMPLATES.worker, vars);
}

export function bucketPolicy(vars: PolicyVars): PolicyDocument {
  return renderTemplate(POLICY_TEMPLATES.bucket, vars);
}
