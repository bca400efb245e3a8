/**
 * Performs a plan made by src/infra/plan.ts, change by change, in order. It never decides anything:
 * what to do and why is in the plan. Every call after a create goes through `settle` (eventual
 * consistency), and every failure leaves with its context via `doing`.
 */
import { randomBytes } from "node:crypto";
import * as ec2 from "../aws/ec2.js";
import * as elbv2 from "../aws/elbv2.js";
import * as listeners from "../aws/elbv2-listeners.js";
import * as ssm from "../aws/ssm.js";
import { awsErrorName } from "../aws/errors.js";
import * as iam from "../aws/iam.js";
import * as s3 from "../aws/s3.js";
import { SynktiError } from "../core/errors.js";
import { doing, type InfraDeps } from "./deps.js";
import type { DesiredInfra } from "./desired.js";
import { API_KEY_BYTES, REDIRECT_STATUS } from "./load-balancer-settings.js";
import { HTTPS_PORT } from "./ports.js";
import { planSteps, type AnyStep, type InfraPlan, type ListenerWant } from "./plan-types.js";
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

/**
 * Ids a later step needs from an earlier one (the workers' rules name the load balancer's group,
 * listeners join the load balancer and the target group): observed ones from the plan, new ones as
 * the creating step learns them.
 */
interface KnownIds {
  loadBalancerGroupId: string | undefined;
  targetGroupArn: string | undefined;
  loadBalancerArn: string | undefined;
}

export async function applyPlan(deps: InfraDeps, want: DesiredInfra, plan: InfraPlan): Promise<void> {
  assertApplicable(plan);
  const ids: KnownIds = {
    loadBalancerGroupId: plan.loadBalancerSecurityGroup.groupId,
    targetGroupArn: plan.targetGroup.arn,
    loadBalancerArn: plan.loadBalancer.arn,
  };
  for (const s of planSteps(plan)) {
    if (s.changes.length === 0) continue;
    await doing(`${s.action === "create" ? "creating" : "updating"} ${s.kind} ${s.name}`, () => applyStep(deps, want, s, ids));
  }
}

async function applyStep(deps: InfraDeps, want: DesiredInfra, s: AnyStep, ids: KnownIds): Promise<void> {
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
      for (const c of s.changes) {
        note(c);
        await retry(() => iam.putRolePolicy(clients, p.roleName, p.name, c.document));
      }
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
            source: { kind: "group" as const, groupId: spec.source === "self" ? groupId : required(ids.loadBalancerGroupId, "load balancer group") },
            description: spec.description,
          }));
          await retry(() => ec2.authorizeIngress(clients, groupId, rules));
        } else if (c.op === "revoke-ingress") await retry(() => ec2.revokeIngress(clients, groupId, c.rules));
        else await retry(() => ec2.tagResource(clients, groupId, c.tags));
      }
      return;
    }
    case "load-balancer-security-group": {
      const g = want.loadBalancerSecurityGroup;
      let groupId = s.groupId ?? "";
      for (const c of s.changes) {
        note(c);
        if (c.op === "create-security-group") {
          groupId = await ec2.createSecurityGroup(clients, { vpcId: c.vpcId, name: g.name, description: g.description, tags: g.tags });
          ids.loadBalancerGroupId = groupId;
        } else if (c.op === "authorize-cidrs") {
          const rules = c.rules.map((r) => ({
            protocol: "tcp",
            fromPort: r.port,
            toPort: r.port,
            source: { kind: "cidr" as const, cidr: r.cidr },
            description: "allowed by synkti infra up --allow-cidr",
          }));
          await retry(() => ec2.authorizeIngress(clients, groupId, rules));
        } else if (c.op === "revoke-ingress") await retry(() => ec2.revokeIngress(clients, groupId, c.rules));
        else await retry(() => ec2.tagResource(clients, groupId, c.tags));
      }
      return;
    }
    case "target-group": {
      const t = want.targetGroup;
      for (const c of s.changes) {
        note(c);
        if (c.op === "create-target-group") {
          ids.targetGroupArn = await elbv2.createTargetGroup(clients, { ...t, vpcId: c.vpcId });
          continue;
        }
        const arn = required(ids.targetGroupArn, "target group");
        if (c.op === "modify-health-check") await retry(() => elbv2.modifyHealthCheck(clients, arn, t.healthCheck));
        else if (c.op === "set-target-group-attributes") await retry(() => elbv2.setTargetGroupAttributes(clients, arn, t.attributes));
        else await retry(() => elbv2.addTags(clients, arn, c.tags));
      }
      return;
    }
    case "load-balancer": {
      const l = want.loadBalancer;
      for (const c of s.changes) {
        note(c);
        if (c.op === "create-load-balancer") {
          const securityGroupId = required(ids.loadBalancerGroupId, "load balancer group");
          ids.loadBalancerArn = await retry(() =>
            elbv2.createLoadBalancer(clients, { name: l.name, scheme: c.scheme, subnetIds: c.subnetIds, securityGroupId, tags: l.tags }),
          );
          continue;
        }
        const arn = required(ids.loadBalancerArn, "load balancer");
        if (c.op === "set-load-balancer-attributes") await retry(() => elbv2.setLoadBalancerAttributes(clients, arn, l.attributes));
        else if (c.op === "set-security-groups") {
          await retry(() => elbv2.setSecurityGroups(clients, arn, [required(ids.loadBalancerGroupId, "load balancer group")]));
        } else if (c.op === "set-subnets") await retry(() => elbv2.setSubnets(clients, arn, c.subnetIds));
        else await retry(() => elbv2.addTags(clients, arn, c.tags));
      }
      return;
    }
    case "listener": {
      for (const c of s.changes) {
        note(c);
        const spec = listenerSpec(c.listener, required(ids.targetGroupArn, "target group"));
        await certificateKnown(spec.certificateArn, want.loadBalancer.project, () =>
          c.op === "create-listener"
            ? retry(() => listeners.createListener(clients, required(ids.loadBalancerArn, "load balancer"), spec))
            : retry(() => listeners.modifyListener(clients, c.listenerArn, spec)),
        );
      }
      return;
    }
    case "api-key": {
      const k = want.apiKey;
      s.changes.forEach(note);
      // Made here, sent once to SSM, never logged or returned: only SSM (encrypted) keeps it.
      const value = randomBytes(API_KEY_BYTES).toString("base64url");
      const created = await ssm.createSecureString(clients, { name: k.name, value, description: k.description, tags: k.tags });
      if (!created) log.info({ kind: s.kind, name: s.name }, "already created by a concurrent run: kept");
      return;
    }
  }
}

function listenerSpec(l: ListenerWant, targetGroupArn: string): listeners.ListenerSpec {
  const action: listeners.ListenerAction =
    l.action === "forward" ? { type: "forward", targetGroupArn } : { type: "redirect-https", port: String(HTTPS_PORT), statusCode: REDIRECT_STATUS };
  return { port: l.port, protocol: l.protocol, action, ...(l.certificateArn ? { certificateArn: l.certificateArn } : {}) };
}

/** A certificate ARN AWS does not know (a typo, another region) is the operator's to fix: say how. */
async function certificateKnown(certificateArn: string | undefined, project: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!certificateArn || !/^CertificateNotFound/.test(awsErrorName(error))) throw error;
    const region = certificateArn.split(":")[3] ?? "<region>";
    throw new SynktiError(`AWS does not know certificate ${certificateArn} (it must be an issued ACM certificate in the load balancer's region).`, {
      code: "certificate-not-found",
      kind: "unsafe",
      fault: "user",
      remedy: `aws acm list-certificates --region ${region}   # then synkti infra up --project-name ${project} --certificate-arn <arn>`,
      cause: error,
    });
  }
}

/** An id an earlier step must have made or observed; missing means the plan's order is wrong (a bug). */
function required(id: string | undefined, what: string): string {
  if (!id) throw new Error(`infra apply: no ${what} id at this step (plan order bug)`);
  return id;
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
