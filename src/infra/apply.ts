/**
 * Performs a plan made by src/infra/plan.ts, change by change, in order. It never decides anything:
 * what to do and why is in the plan. Every call after a create goes through `settle` (eventual
 * consistency), and every failure leaves with its context via `doing`.
 */
import * as ec2 from "../aws/ec2.js";
import { awsErrorName } from "../aws/errors.js";
import * as iam from "../aws/iam.js";
import * as s3 from "../aws/s3.js";
import { SynktiError } from "../core/errors.js";
import { doing, type InfraDeps } from "./deps.js";
import type { DesiredInfra } from "./desired.js";
import { planSteps, type AnyStep, type InfraPlan } from "./plan-types.js";
import { settle } from "./settle.js";

/** Refuses the whole plan when any step is blocked: never start what cannot complete. */
export function assertApplicable(plan: InfraPlan): void {
  const blocked = planSteps(plan).find((s) => s.blocker);
  if (blocked?.blocker) {
    throw new SynktiError(`Cannot create ${blocked.kind} ${blocked.name}: ${blocked.blocker.message}.`, {
      code: "infra-blocked",
      kind: "unsafe",
      fault: "user",
      remedy: blocked.blocker.remedy,
    });
  }
}

export async function applyPlan(deps: InfraDeps, want: DesiredInfra, plan: InfraPlan): Promise<void> {
  assertApplicable(plan);
  for (const s of planSteps(plan)) {
    if (s.changes.length === 0) continue;
    await doing(`${s.action === "create" ? "creating" : "updating"} ${s.kind} ${s.name}`, () => applyStep(deps, want, s));
  }
}

async function applyStep(deps: InfraDeps, want: DesiredInfra, s: AnyStep): Promise<void> {
  const { clients, clock, log } = deps;
  const retry = <T>(work: () => Promise<T>) => settle(clock, work);
  const note = (change: { op: string; reason: string }) => log.info({ kind: s.kind, name: s.name, op: change.op }, change.reason);
  switch (s.kind) {
    case "bucket": {
      const b = want.bucket;
      for (const c of s.changes) {
        note(c);
        if (c.op === "create-bucket") await createBucket(deps, b.name, b.region);
        else if (c.op === "put-public-access-block") await retry(() => s3.putPublicAccessBlock(clients, b.name, b.publicAccessBlock));
        else if (c.op === "put-encryption") await retry(() => s3.putDefaultEncryption(clients, b.name, b.encryption));
        else if (c.op === "put-lifecycle") await retry(() => s3.putLifecycleRules(clients, b.name, b.lifecycleRules));
        else if (c.op === "put-tags") await retry(() => s3.putBucketTags(clients, b.name, c.tags));
        else if (b.policy) await retry(() => s3.putBucketPolicy(clients, b.name, b.policy!));
      }
      return;
    }
    case "role": {
      const r = want.role;
      for (const c of s.changes) {
        note(c);
        if (c.op === "create-role") await iam.createRole(clients, r);
        else if (c.op === "update-trust-policy") await retry(() => iam.updateTrustPolicy(clients, r.name, r.trustPolicy));
        else await retry(() => iam.tagRole(clients, r.name, c.tags));
      }
      return;
    }
    case "role-policy": {
      const p = want.rolePolicy;
      s.changes.forEach(note);
      await retry(() => iam.putRolePolicy(clients, p.roleName, p.name, p.document));
      return;
    }
    case "instance-profile": {
      const p = want.instanceProfile;
      for (const c of s.changes) {
        note(c);
        if (c.op === "create-instance-profile") await iam.createInstanceProfile(clients, p.name, p.tags);
        else if (c.op === "remove-role") await retry(() => iam.removeRoleFromInstanceProfile(clients, p.name, c.roleName));
        else if (c.op === "add-role") await retry(() => iam.addRoleToInstanceProfile(clients, p.name, p.roleName));
        else await retry(() => iam.tagInstanceProfile(clients, p.name, c.tags));
      }
      return;
    }
    case "security-group": {
      const g = want.securityGroup;
      let groupId = s.groupId ?? "";
      for (const c of s.changes) {
        note(c);
        if (c.op === "create-security-group") {
          groupId = await ec2.createSecurityGroup(clients, { vpcId: c.vpcId, name: g.name, description: g.description, tags: g.tags });
        } else if (c.op === "authorize-ingress") {
          const rules = c.rules.map((spec) => ({
            protocol: spec.protocol,
            fromPort: spec.port,
            toPort: spec.port,
            source: { kind: "group" as const, groupId },
            description: spec.description,
          }));
          await retry(() => ec2.authorizeIngress(clients, groupId, rules));
        } else if (c.op === "revoke-ingress") await retry(() => ec2.revokeIngress(clients, groupId, c.rules));
        else await retry(() => ec2.tagResource(clients, groupId, c.tags));
      }
      return;
    }
  }
}

/** A concurrent `infra up` may have won the race (ours: fine); another account's name is a blocker. */
async function createBucket(deps: InfraDeps, bucket: string, region: string): Promise<void> {
  try {
    await s3.createBucket(deps.clients, bucket, region);
  } catch (error) {
    const name = awsErrorName(error);
    if (name === "BucketAlreadyOwnedByYou") return;
    if (name === "BucketAlreadyExists") {
      throw new SynktiError(`Bucket ${bucket} belongs to another AWS account (bucket names are global).`, {
        code: "bucket-name-taken",
        kind: "unsafe",
        fault: "user",
        remedy: "synkti infra up --project-name <another-project-name>",
        cause: error,
      });
    }
    throw error;
  }
}
