import { createHash } from "node:crypto";
import { usageError } from "../core/errors.js";

/**
 * Every AWS name synkti uses is derived here from the project name, and only here, so the SDK
 * path, terraform/ and preflight can never disagree about what a resource is called.
 */
export const PROJECT_NAME_RULE =
  "3-40 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit";

/** Exported so terraform/variables.tf's validation can be checked against it (test/unit/infra). */
export const PROJECT_NAME = /^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$/;

/** Returns the reason a project name is invalid, or undefined when it is valid. */
export function projectNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 40) return `is ${name.length} characters long; it must be ${PROJECT_NAME_RULE}`;
  if (!PROJECT_NAME.test(name)) return `must be ${PROJECT_NAME_RULE}`;
  // S3 forbids bucket names with consecutive hyphens next to dots only, but "--" reads as a typo
  // and `xn--` prefixes are reserved for bucket names: refuse both to keep every derived name valid.
  if (name.startsWith("xn--")) return "must not start with 'xn--' (reserved by S3 for bucket names)";
  return undefined;
}

export function validateProjectName(name: string): string {
  const problem = projectNameProblem(name);
  if (problem) {
    throw usageError(
      "invalid-project-name",
      `Invalid project name '${name}': it ${problem}.`,
      "synkti --project-name my-app ...",
    );
  }
  return name;
}

export const TAG_CLUSTER = "SynktiCluster";
export const TAG_ROLE = "SynktiRole";
export const TAG_LAUNCH = "SynktiLaunch";
export const ROLE_WORKER = "worker";
/** Where peers reach a worker (`<local-ipv4>:<status port>`); the worker publishes it on itself. */
export const TAG_ENDPOINT = "SynktiEndpoint";
/**
 * The stop marker: `synkti down` sets it on every instance before terminating any, so a worker's
 * failover sees the cluster is being stopped and launches no replacement.
 */
export const TAG_STOPPING = "SynktiStopping";

/**
 * What a worker says of itself, on itself (it stays the authority on its state; a laptop outside the
 * VPC reads these instead of asking the worker). The launch sets `booting`; the worker moves on.
 */
export const TAG_STATE = "SynktiState";
export const WORKER_STATES = ["booting", "serving", "draining", "retiring", "failed"] as const;
export type WorkerState = (typeof WORKER_STATES)[number];
/**
 * A pending notice (ISO 8601, UTC): a spot notice's termination time, or, for a rebalance
 * recommendation (which names no termination time), the time AWS issued it, until a spot notice
 * replaces it. So a time still to come is a reclaim time; a past one is a risk already raised.
 */
export const TAG_NOTICE = "SynktiNotice";
/** The model a worker serves, set at launch: a launch for another model is refused while these run. */
export const TAG_MODEL = "SynktiModel";
/** On a replacement: the instance it replaces (failover's exactly-once check looks for it first). */
export const TAG_REPLACES = "SynktiReplaces";
/** The slot (0..desired-1) a worker fills; a replacement inherits its predecessor's. */
export const TAG_SLOT = "SynktiSlot";
/**
 * When the worker first served (ISO 8601, UTC), set with the first `SynktiState=serving` in the
 * same CreateTags: an instance without it, long after its launch, never served (repair retires it).
 */
export const TAG_SERVED_AT = "SynktiServedAt";
/**
 * The launch's instance types, comma-separated in the operator's order (`launch --instance-types`):
 * the worker's failover tries them in that order. A replacement carries it on.
 */
export const TAG_INSTANCE_TYPES = "SynktiInstanceTypes";
/** "true" when the launch allowed an on-demand replacement as the last resort (`--on-demand-fallback`). */
export const TAG_ON_DEMAND_FALLBACK = "SynktiOnDemandFallback";

/**
 * The worker's standing failover plan (issue 11 item 5), on itself so `synkti status` from a laptop
 * outside the VPC (which cannot ask the worker) still sees it: `ready`, or the problem's code.
 * The detail (pool, time verified, the problem in words, the fix) is on the worker's /status.
 */
export const TAG_PLAN = "SynktiPlan";
export const PLAN_PROBLEMS = ["pending", "denied", "no-pool", "no-template", "stopping", "unobservable"] as const;
export type PlanProblem = (typeof PLAN_PROBLEMS)[number];

/** The console's name column: `<project>-worker` on every worker the launch or a failover starts. */
export const TAG_NAME = "Name";

/**
 * The only tag keys a worker may write on an existing instance (its own state, published on itself;
 * user-data's `SynktiState=failed` too). The worker policy's `aws:TagKeys` list for CreateTags is
 * exactly this (test/unit/infra/worker-policy.test.ts): never a membership key, so a compromised
 * worker cannot take an instance out of reach of `down` and `leaks` (SynktiCluster, SynktiRole,
 * SynktiLaunch) or stop a cluster (SynktiStopping).
 */
export const WORKER_SELF_TAG_KEYS = [TAG_ENDPOINT, TAG_STATE, TAG_NOTICE, TAG_PLAN, TAG_SERVED_AT] as const;

/** Tags a worker may write on itself: any other key does not compile (and IAM would refuse it). */
export type WorkerSelfTags = Partial<Record<(typeof WORKER_SELF_TAG_KEYS)[number], string>>;

/**
 * The tag keys a replacement's RunInstances carries (the launch's run spec, src/infra/worker-instance.ts,
 * plus the failover's SynktiReplaces and SynktiSlot): the worker policy's `aws:TagKeys` list for
 * tag-on-create is exactly this.
 */
export const LAUNCH_TAG_KEYS = [
  TAG_NAME,
  TAG_CLUSTER,
  TAG_ROLE,
  TAG_LAUNCH,
  TAG_STATE,
  TAG_MODEL,
  TAG_INSTANCE_TYPES,
  TAG_ON_DEMAND_FALLBACK,
  TAG_REPLACES,
  TAG_SLOT,
] as const;

/** Membership is tags (DESIGN: no control plane): the whole "cluster model" is this filter. */
export const workerSelector = (project: string) => ({ [TAG_CLUSTER]: project, [TAG_ROLE]: ROLE_WORKER });

/** Tags every permanent resource carries, so `synkti leaks` and IAM conditions can find them. */
export function clusterTags(project: string): Record<string, string> {
  return { [TAG_CLUSTER]: project };
}

export interface ProjectNames {
  project: string;
  bucket: string;
  binaryKey: string;
  binaryChecksumKey: string;
  checkpointsPrefix: string;
  role: string;
  instanceProfile: string;
  workerPolicy: string;
  securityGroup: string;
  modelPrefix(model: string): string;
  manifestKey(model: string): string;
  /** `bin/synkti-<sha256>`: the binary a launch pins, never overwritten (bin/synkti is the latest). */
  pinnedBinaryKey(sha256: string): string;
  /** `<model>/manifest-<sha256>.json`: the manifest a launch pins, never overwritten. */
  pinnedManifestKey(model: string, sha256: string): string;
  /** `checkpoints/logs/`: what a worker leaves behind when it fails (and refreshes while it runs). */
  logsPrefix: string;
  /** `{"instanceId","at","exitCode","reason"}` of a worker that ended itself. */
  failureRecordKey(instanceId: string): string;
  /** The last 64 KiB of a worker's boot and agent log. */
  bootLogKey(instanceId: string): string;
  /** A failover's timeline, written by the doomed worker as it goes (outlives the instance). */
  failoverKey(doomedId: string): string;
  /** Where every failover's timeline is (`synkti status` lists the recent ones). */
  failoversPrefix: string;
  /**
   * `cluster/desired.json` (`{"workers","setAt"}`, src/cluster/desired.ts): the operator's intent,
   * written only by the deployer; workers read it (their policy cannot write outside checkpoints/).
   */
  desiredKey: string;
  /** `checkpoints/claims/`: one object per repair (or slot fill), created with If-None-Match: *. */
  claimsPrefix: string;
  /** `checkpoints/claims/<slot>-<cause>`: cause is the dead holder's instance id or a generation. */
  claimKey(slot: number, cause: string): string;
  /** `checkpoints/repair/`: each repair's outcome (served or not), read by the pause rule. */
  repairPrefix: string;
  repairOutcomeKey(slot: number, cause: string): string;
  /** The Application Load Balancer: its DNS name (the endpoint's URL) starts with this. */
  loadBalancer: string;
  /** The target group of the workers' vLLM port, which each worker joins and leaves itself. */
  targetGroup: string;
  /** The load balancer's security group: ingress only from the CIDRs the operator names. */
  loadBalancerSecurityGroup: string;
  /** The SSM SecureString holding the API key vLLM requires (never in user-data, tags or logs). */
  apiKeyParameter: string;
}

export function projectNames(project: string): ProjectNames {
  validateProjectName(project);
  return {
    project,
    bucket: `${project}-models`,
    binaryKey: "bin/synkti",
    binaryChecksumKey: "bin/synkti.sha256",
    checkpointsPrefix: "checkpoints/",
    role: `${project}-synkti-worker`,
    instanceProfile: `${project}-synkti-worker`,
    workerPolicy: `${project}-synkti-worker`,
    securityGroup: `${project}-synkti-workers`,
    modelPrefix: (model) => `${model}/`,
    manifestKey: (model) => `${model}/manifest.json`,
    pinnedBinaryKey: (sha256) => `bin/synkti-${sha256}`,
    pinnedManifestKey: (model, sha256) => `${model}/manifest-${sha256}.json`,
    logsPrefix: "checkpoints/logs/",
    failureRecordKey: (instanceId) => `checkpoints/logs/${instanceId}.json`,
    bootLogKey: (instanceId) => `checkpoints/logs/${instanceId}.log`,
    failoverKey: (doomedId) => `checkpoints/failovers/${doomedId}.json`,
    failoversPrefix: "checkpoints/failovers/",
    desiredKey: "cluster/desired.json",
    claimsPrefix: "checkpoints/claims/",
    claimKey: (slot, cause) => `checkpoints/claims/${slot}-${cause}`,
    repairPrefix: "checkpoints/repair/",
    repairOutcomeKey: (slot, cause) => `checkpoints/repair/${slot}-${cause}.json`,
    loadBalancer: elbName(project, LOAD_BALANCER_SUFFIX),
    targetGroup: elbName(project, TARGET_GROUP_SUFFIX),
    loadBalancerSecurityGroup: `${project}-synkti-lb`,
    apiKeyParameter: `/synkti/${project}/api-key`,
  };
}

/**
 * Load balancer and target group names: at most 32 characters of [a-zA-Z0-9-], not starting or
 * ending with '-', and (load balancers) not starting with `internal-`, which AWS reserves for the
 * DNS names of internal load balancers. A project name may be 40 characters long, may start with
 * `internal-` and may contain `--` (which ELB also refuses), so the plain `<project>-<suffix>` is
 * kept only when it is valid as is; otherwise the name is
 * `<head>-<hash>-<suffix>`: the project's first characters (`internal-` shortened to `int-`,
 * hyphen runs collapsed, no trailing hyphen) and the first 6 hex digits of the project name's
 * SHA-256, so two long names with the same start still differ. Stable: the same project always
 * gets the same name. terraform/main.tf computes the very same (unit-tested).
 */
export const ELB_NAME_MAX = 32;
export const ELB_NAME_HASH_LENGTH = 6;
export const LOAD_BALANCER_SUFFIX = "synkti";
export const TARGET_GROUP_SUFFIX = "synkti-vllm";

export function elbName(project: string, suffix: string): string {
  const plain = `${project}-${suffix}`;
  if (plain.length <= ELB_NAME_MAX && !project.startsWith("internal-") && !project.includes("--")) return plain;
  const hash = createHash("sha256").update(project).digest("hex").slice(0, ELB_NAME_HASH_LENGTH);
  const room = ELB_NAME_MAX - suffix.length - ELB_NAME_HASH_LENGTH - 2;
  const head = project.replace(/^internal-/, "int-").replace(/-+/g, "-").slice(0, room).replace(/-$/, "");
  return `${head}-${hash}-${suffix}`;
}
