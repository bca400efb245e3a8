import {
  accountContext,
  desiredInfra,
  observeBucket,
  observeInstanceProfile,
  observeRole,
  observeRolePolicy,
  observeSecurityGroup,
  planBucket,
  planInstanceProfile,
  planRole,
  planRolePolicy,
  planSecurityGroup,
  type AnyStep,
  type BucketObservation,
  type DesiredInfra,
} from "../../infra/index.js";
import type { Finding, Requirement } from "../types.js";
import { synktiCommand, type DeployerContext } from "./context.js";

/**
 * The permanent resources, judged by the same pure planners `infra up` uses: a resource passes when
 * `infra up` would leave it unchanged, so preflight and infra can never disagree.
 */
function desired(ctx: DeployerContext): Promise<DesiredInfra> {
  return ctx.once("desired-infra", async () => desiredInfra(ctx.names, await accountContext(ctx)));
}

function bucketObservation(ctx: DeployerContext): Promise<BucketObservation> {
  return ctx.once("bucket", (shared) => observeBucket(ctx, ctx.names, shared));
}

/** A plan step as a finding: unchanged passes; create, update or blocked fail with the fix. */
export function stepFinding(step: AnyStep, ctx: DeployerContext, what: string): Finding {
  const fix = { command: synktiCommand(ctx, "infra up") };
  if (step.blocker) return { status: "fail", observed: step.blocker.message, fix: { command: step.blocker.remedy } };
  if (step.action === "unchanged") return { status: "pass", observed: `${step.name} as infra up makes it` };
  if (step.action === "create") return { status: "fail", observed: `${what} ${step.name} does not exist`, fix };
  const reasons = step.changes.map((c) => (c as { reason: string }).reason).join("; ");
  return { status: "fail", observed: `${what} ${step.name} drifted: ${reasons}`, fix };
}

function infraRequirement<Obs>(
  id: string,
  title: string,
  what: string,
  observe: (ctx: DeployerContext, signal: AbortSignal) => Promise<Obs>,
  plan: (want: DesiredInfra, seen: Obs) => AnyStep,
  dependsOn: string[] = ["credentials"],
): Requirement<DeployerContext, { want: DesiredInfra; seen: Obs }> {
  return {
    id,
    title,
    dependsOn,
    async observe(ctx, signal) {
      const [want, seen] = await Promise.all([desired(ctx), observe(ctx, signal)]);
      return { want, seen };
    },
    verdict: ({ want, seen }, ctx) => stepFinding(plan(want, seen), ctx, what),
  };
}

/** The bucket exists and is ours; a 403 means the global name is taken by another account. */
export const bucket: Requirement<DeployerContext, BucketObservation> = {
  id: "bucket",
  title: "models bucket exists and is ours",
  dependsOn: ["credentials"],
  observe: (ctx) => bucketObservation(ctx),
  verdict(seen, ctx) {
    if (seen.state === "present") return { status: "pass", observed: `s3://${ctx.names.bucket}` };
    if (seen.state === "missing") {
      return { status: "fail", observed: `bucket ${ctx.names.bucket} does not exist`, fix: { command: synktiCommand(ctx, "infra up") } };
    }
    return {
      status: "fail",
      observed: `bucket ${ctx.names.bucket} answers 403: the name (global across AWS) belongs to another account, or these credentials may not read it`,
      fix: { command: "synkti preflight --project-name <another-project-name>", needs: ["another-project-name"] },
    };
  },
};

const bucketSettings = infraRequirement(
  "bucket-hardening",
  "bucket hardened (no public access, encryption, TLS only, lifecycle)",
  "bucket",
  bucketObservation,
  (want, seen) => planBucket(want.bucket, seen),
  ["bucket"],
);

/** As infra up makes it; over a plain-HTTP endpoint (an emulator) the TLS-only policy cannot apply: say so. */
export const bucketHardening: typeof bucketSettings = {
  ...bucketSettings,
  verdict(obs, ctx) {
    const finding = bucketSettings.verdict(obs, ctx);
    if (finding.status !== "pass" || obs.want.bucket.policy) return finding;
    return { status: "warn", observed: `${finding.observed}, except the TLS-only policy: the S3 endpoint is plain HTTP` };
  },
};
export const role = infraRequirement("role", "worker IAM role", "role", (ctx, s) => observeRole(ctx, ctx.names, s), (w, seen) =>
  planRole(w.role, seen),
);
export const rolePolicy = infraRequirement(
  "role-policy",
  "worker least-privilege policy",
  "policy",
  (ctx, s) => observeRolePolicy(ctx, ctx.names, s),
  (w, seen) => planRolePolicy(w.rolePolicy, seen),
  ["role"],
);
export const instanceProfile = infraRequirement(
  "instance-profile",
  "worker instance profile",
  "instance profile",
  (ctx, s) => observeInstanceProfile(ctx, ctx.names, s),
  (w, seen) => planInstanceProfile(w.instanceProfile, seen),
  ["role"],
);
export const securityGroup = infraRequirement(
  "security-group",
  "worker security group (peers only, nothing open to the world)",
  "security group",
  (ctx, s) => observeSecurityGroup(ctx, ctx.names, s),
  (w, seen) => planSecurityGroup(w.securityGroup, seen),
);
