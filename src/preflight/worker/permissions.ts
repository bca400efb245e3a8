import { deniedDryRuns, dryRunDescribeInstances, dryRunRunInstances, projectSecurityGroupId, type DryRunResult } from "../../aws/ec2-discovery.js";
import { awsErrorName } from "../../aws/errors.js";
import { runInstancesInput } from "../../aws/ec2-instances.js";
import { replacementTags } from "../../failover/spawn-request.js";
import { PREFLIGHT_LAUNCH_ID } from "../../infra/worker-instance.js";
import { readReplacementTemplate, replacementRunSpec } from "../../worker/failover/replacement-spec.js";
import type { Requirement } from "../types.js";
import type { WorkerContext } from "./context.js";
import { messageOf } from "../../core/errors.js";

type Observation = { runInstances: DryRunResult; describeInstances: DryRunResult };

/**
 * A worker must be able to launch its own replacement when a spot notice comes (the failover has
 * 120 s; discovering a missing permission then is too late) and to list its peers. EC2 DryRun of
 * the very request the failover sends (src/worker/failover/replacement-spec.ts: the launch's own,
 * reproduced from this instance's user-data, type and image): the project's instance profile (so
 * iam:PassRole is checked too), group and a zone's subnet, spot, IMDSv2, the replacement's tags.
 * Only the launch id (PREFLIGHT_LAUNCH_ID) differs, and there is no ClientToken.
 */
export const replacementPermission: Requirement<WorkerContext, Observation> = {
  id: "permission-replace",
  title: "permission to launch a replacement and list peers (EC2 DryRun)",
  dependsOn: ["worker-identity", "instance-role"],
  timeoutMs: 15_000,
  async observe(ctx, signal) {
    const facts = await ctx.instance();
    const securityGroupId = await projectSecurityGroupId(ctx.clients, ctx.names.securityGroup, ctx.names.project, signal);
    // A replacement goes into the project's group (the policy allows no other): without it, no launch.
    const noGroup: DryRunResult = { allowed: false, reason: `security group ${ctx.names.securityGroup} tagged for ${ctx.names.project} not found` };
    const [runInstances, describeInstances] = await Promise.all([
      !securityGroupId ? noGroup : readReplacementTemplate(ctx, { names: ctx.names, facts, model: ctx.model, modelsDir: ctx.modelsDir }, signal).then((template) => {
        // A zone a replacement would go to: another one than this worker's when there is one.
        const zone = Object.keys(template.subnets).find((z) => z !== facts.availabilityZone) ?? facts.availabilityZone;
        const request = { candidate: { instanceType: facts.instanceType, zone, market: "spot" as const }, clientToken: "", launchId: PREFLIGHT_LAUNCH_ID, tags: replacementTags({ instanceId: facts.instanceId, instanceType: facts.instanceType, zone: facts.availabilityZone }) };
        return dryRunRunInstances(ctx.clients, runInstancesInput(replacementRunSpec(template, request)), signal);
      }).catch((error: unknown) => {
        // AWS: InvalidParameterValue "Invalid IAM Instance Profile name"; moto: NoSuchEntity.
        const name = awsErrorName(error);
        const message = messageOf(error);
        if (name === "NoSuchEntity" || (name === "InvalidParameterValue" && /instance profile/i.test(message))) {
          return { allowed: false as const, reason: `instance profile ${ctx.names.instanceProfile} does not exist (${message})` };
        }
        throw error;
      }),
      dryRunDescribeInstances(ctx.clients, signal),
    ]);
    return { runInstances, describeInstances };
  },
  verdict(obs, ctx) {
    const denied = deniedDryRuns({ "ec2:RunInstances": obs.runInstances, "ec2:DescribeInstances": obs.describeInstances });
    if (denied.length === 0) return { status: "pass", observed: "RunInstances (with the instance profile) and DescribeInstances allowed (DryRun)" };
    // The worker policy is a permanent resource: infra up repairs a policy that drifted.
    return { status: "fail", observed: `denied: ${denied.join("; ")}`, fix: { command: `synkti infra up --project-name ${ctx.names.project}` } };
  },
};
