import { DLAMI_OWNER } from "../aws/ec2-discovery.js";
import { usageError } from "../core/errors.js";
import type { PolicyDocument } from "./policies.js";

/**
 * Which instances a worker may launch (its replacements), recorded in the worker policy itself:
 * the policy is the record, as the load balancer's group is for `--allow-cidr`. A re-run of
 * `infra up` without `--instance-types` / `--allow-on-demand` keeps what the policy says.
 *
 * In the policy: the statement LaunchOnlyTaggedWorkers (RunInstances on the instance resource)
 * gets `StringEquals ec2:InstanceType [types]` (no such condition: no type recorded, any type),
 * and keeps `ec2:InstanceMarketType = spot` unless on-demand is allowed, when the condition is
 * left out (both condition keys apply to the instance resource of RunInstances; an on-demand
 * request sends no market option, so a value list could not be relied on to match it).
 */
export interface ComputePolicy {
  /** Allowed types, sorted (order is the launch's business); empty: no type condition. */
  instanceTypes: string[];
  allowOnDemand: boolean;
}

/** What `infra up` was asked for on this run; undefined fields keep what the policy records. */
export interface ComputeOptions {
  instanceTypes?: string[];
  allowOnDemand?: boolean;
}

const LAUNCH_STATEMENT = "LaunchOnlyTaggedWorkers";
const INSTANCE_TYPE_KEY = "ec2:InstanceType";
const MARKET_TYPE_KEY = "ec2:InstanceMarketType";

/** The default before any `--instance-types`: any type, spot only (as the template says). */
export const DEFAULT_COMPUTE: ComputePolicy = { instanceTypes: [], allowOnDemand: false };

/** Type names like g5.xlarge, p4d.24xlarge, g6e.2xlarge (family.size); lower case as AWS spells them. */
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

/** Parses `a,b,c` (order kept, duplicates dropped); a bad name is a usage error (exit 2). */
export function parseInstanceTypes(flag: string, value: string, fix: string): string[] {
  const types = value.split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (types.length === 0) throw usageError("invalid-instance-types", `${flag} is empty: name at least one instance type, like g5.xlarge.`, fix);
  for (const type of types) {
    if (!INSTANCE_TYPE.test(type)) throw usageError("invalid-instance-types", `Invalid ${flag} entry '${type}': an instance type looks like g5.xlarge.`, fix);
  }
  return [...new Set(types)];
}

const launchStatement = (doc: PolicyDocument) => doc.Statement.find((s) => s.Sid === LAUNCH_STATEMENT);
const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Reads what a policy (as observed, or as rendered) records; a missing policy records the default. */
export function recordedCompute(doc: unknown): ComputePolicy {
  const statements = (doc as { Statement?: unknown } | undefined)?.Statement;
  if (!Array.isArray(statements)) return DEFAULT_COMPUTE;
  const launch = launchStatement(doc as PolicyDocument);
  if (!launch) return DEFAULT_COMPUTE;
  const equals = launch.Condition?.StringEquals ?? {};
  return {
    instanceTypes: [...new Set(asList(equals[INSTANCE_TYPE_KEY]))].sort(),
    allowOnDemand: equals[MARKET_TYPE_KEY] === undefined,
  };
}

/** This run's wish over the record: a flag given replaces, a flag left out keeps. */
export function resolveCompute(recorded: ComputePolicy, asked: ComputeOptions | undefined): ComputePolicy {
  return {
    instanceTypes: asked?.instanceTypes ? [...new Set(asked.instanceTypes)].sort() : recorded.instanceTypes,
    allowOnDemand: asked?.allowOnDemand ?? recorded.allowOnDemand,
  };
}

/** The rendered template with the compute conditions in place. Pure; the input is not changed. */
export function withCompute(doc: PolicyDocument, compute: ComputePolicy): PolicyDocument {
  const out = structuredClone(doc);
  const launch = launchStatement(out);
  if (!launch) throw new Error(`worker policy template has no ${LAUNCH_STATEMENT} statement`);
  const equals = { ...(launch.Condition?.StringEquals ?? {}) };
  delete equals[INSTANCE_TYPE_KEY];
  if (compute.instanceTypes.length > 0) equals[INSTANCE_TYPE_KEY] = [...compute.instanceTypes];
  if (compute.allowOnDemand) delete equals[MARKET_TYPE_KEY];
  launch.Condition = { ...(launch.Condition ?? {}), StringEquals: equals };
  return out;
}

/** One line for plans and status: "g5.xlarge, g6.xlarge; spot only". */
export function describeCompute(c: ComputePolicy): string {
  return `${c.instanceTypes.length > 0 ? c.instanceTypes.join(", ") : "any instance type"}; ${c.allowOnDemand ? "spot, on-demand allowed" : "spot only"}`;
}

/** The types a launch asks for that the policy does not allow (none when no type is recorded). */
export function typesNotAllowed(asked: string[], allowed: ComputePolicy): string[] {
  if (allowed.instanceTypes.length === 0) return [];
  return asked.filter((t) => !allowed.instanceTypes.includes(t));
}

/**
 * Whose images a worker may launch its replacements from (the worker policy's ec2:Owner list, in
 * policies/worker-policy.json, unit-tested equal): Amazon's own (IAM names them by the alias
 * "amazon"), the Deep Learning AMIs' account, and the project's own account. A launch's `--ami` of
 * another owner would boot, but its replacements would be refused: preflight says so first.
 */
export const workerImageOwners = (accountId: string) => ["amazon", DLAMI_OWNER, accountId];

export function imageOwnerAllowed(image: { ownerId?: string; ownerAlias?: string }, accountId: string): boolean {
  const owners = workerImageOwners(accountId);
  return [image.ownerAlias, image.ownerId].some((o) => o !== undefined && owners.includes(o));
}
