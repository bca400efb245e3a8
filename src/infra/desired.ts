/**
 * What the permanent infrastructure must look like, derived from the project's names and the
 * account. Pure; the planner compares it with observations. terraform/ declares the same values
 * (test/unit/infra/terraform.test.ts keeps them equal).
 */
import type { LifecycleRuleSpec, PublicAccessBlock } from "../aws/s3.js";
import type { ComputeOptions } from "./compute-policy.js";
import { clusterTags, type ProjectNames } from "./names.js";
import { bucketPolicy, policyVars, trustPolicy, workerPolicy, type AccountContext, type PolicyDocument } from "./policies.js";
import type { HealthCheck } from "../aws/elbv2.js";
import {
  ALGORITHM_ATTRIBUTE,
  DEREGISTRATION_DELAY_ATTRIBUTE,
  DEREGISTRATION_DELAY_SECONDS,
  HEALTH_CHECK,
  HEALTH_PATH,
  IDLE_TIMEOUT_ATTRIBUTE,
  LB_IDLE_TIMEOUT_SECONDS,
  ROUTING_ALGORITHM,
} from "./load-balancer-settings.js";
import { LOAD_BALANCER_TARGET_PORTS, MODEL_SERVER_PORT, PEER_PORTS, STATUS_PORT } from "./ports.js";

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
  /** Peers (the group itself) or the load balancer's group. */
  source: "self" | "load-balancer";
  description: string;
}

/**
 * What the operator asks of the load balancer on this run. Left out, each keeps what exists (the
 * resources are the record): preflight and `infra status` judge with none of them.
 */
export interface LoadBalancerOptions {
  /** CIDRs (IPv4) to admit to the listeners, added to the ones the group already admits. */
  allowCidrs?: string[];
  /** CIDRs to take out. */
  revokeCidrs?: string[];
  /** true: VPC-only; false: internet-facing; undefined: as it is (internet-facing when created). */
  internal?: boolean;
  /** An ACM certificate: HTTPS on 443, and HTTP redirects to it. */
  certificateArn?: string;
}

export type Scheme = "internet-facing" | "internal";

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
  /**
   * `document` is the template as rendered (spot only, any type); the planner puts in the instance
   * types and market the policy records, or `compute` when this run names them (compute-policy.ts).
   */
  rolePolicy: { roleName: string; name: string; document: PolicyDocument; compute?: ComputeOptions };
  instanceProfile: { name: string; roleName: string; tags: Record<string, string> };
  securityGroup: { name: string; region: string; description: string; ingress: IngressSpec[]; tags: Record<string, string> };
  loadBalancerSecurityGroup: {
    name: string;
    region: string;
    description: string;
    allowCidrs: string[];
    revokeCidrs: string[];
    tags: Record<string, string>;
  };
  loadBalancer: { name: string; project: string; scheme: Scheme | undefined; attributes: Record<string, string>; tags: Record<string, string> };
  targetGroup: {
    name: string;
    protocol: "HTTP";
    port: number;
    targetType: "instance";
    healthCheck: HealthCheck;
    attributes: Record<string, string>;
    tags: Record<string, string>;
  };
  /** undefined certificate: keep an HTTPS listener if one exists (with its certificate), else HTTP only. */
  listeners: { loadBalancerName: string; certificateArn: string | undefined };
  apiKey: { name: string; description: string; tags: Record<string, string> };
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

export function desiredInfra(names: ProjectNames, account: AccountContext, lb: LoadBalancerOptions = {}, compute?: ComputeOptions): DesiredInfra {
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
    rolePolicy: { roleName: names.role, name: names.workerPolicy, document: workerPolicy(vars), ...(compute ? { compute } : {}) },
    instanceProfile: { name: names.instanceProfile, roleName: names.role, tags },
    securityGroup: {
      name: names.securityGroup,
      region: account.region,
      description: `synkti workers of project ${names.project}: peers only, no SSH`,
      ingress: [
        ...PEER_PORTS.map(({ port, description }): IngressSpec => ({ protocol: "tcp", port, source: "self", description })),
        ...LOAD_BALANCER_TARGET_PORTS.map(({ port, description }): IngressSpec => ({ protocol: "tcp", port, source: "load-balancer", description })),
      ],
      tags,
    },
    loadBalancerSecurityGroup: {
      name: names.loadBalancerSecurityGroup,
      region: account.region,
      description: `synkti load balancer of project ${names.project}: only the CIDRs the operator allows`,
      allowCidrs: lb.allowCidrs ?? [],
      revokeCidrs: lb.revokeCidrs ?? [],
      tags,
    },
    loadBalancer: {
      name: names.loadBalancer,
      project: names.project,
      scheme: lb.internal === undefined ? undefined : lb.internal ? "internal" : "internet-facing",
      attributes: { [IDLE_TIMEOUT_ATTRIBUTE]: String(LB_IDLE_TIMEOUT_SECONDS) },
      tags,
    },
    targetGroup: {
      name: names.targetGroup,
      protocol: "HTTP",
      port: MODEL_SERVER_PORT,
      targetType: "instance",
      healthCheck: {
        protocol: "HTTP",
        path: HEALTH_PATH,
        port: String(STATUS_PORT),
        intervalSeconds: HEALTH_CHECK.intervalSeconds,
        timeoutSeconds: HEALTH_CHECK.timeoutSeconds,
        healthyThreshold: HEALTH_CHECK.healthyThreshold,
        unhealthyThreshold: HEALTH_CHECK.unhealthyThreshold,
        matcher: "200",
      },
      attributes: {
        [ALGORITHM_ATTRIBUTE]: ROUTING_ALGORITHM,
        [DEREGISTRATION_DELAY_ATTRIBUTE]: String(DEREGISTRATION_DELAY_SECONDS),
      },
      tags,
    },
    listeners: { loadBalancerName: names.loadBalancer, certificateArn: lb.certificateArn },
    apiKey: { name: names.apiKeyParameter, description: `API key of synkti project ${names.project} (vLLM --api-key)`, tags },
  };
}
