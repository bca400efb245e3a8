import { deniedDryRuns, dryRunDescribeInstances, dryRunRunInstances, projectSecurityGroupId, type DryRunResult } from "../../aws/ec2-discovery.js";
import { simulateCallerActions, type SimulationResult } from "../../aws/iam-simulation.js";
import { runInstancesInput } from "../../aws/ec2-instances.js";
import { PREFLIGHT_LAUNCH_ID, workerRunSpec } from "../../infra/worker-instance.js";
import type { Requirement } from "../types.js";
import { launchImage } from "./compute.js";
import type { DeployerContext } from "./context.js";

/** Every API action a launch, status and teardown will call, for IAM simulation. */
export const DEPLOYER_ACTIONS = [
  "ec2:RunInstances",
  "ec2:CreateTags",
  "ec2:DescribeInstances",
  "ec2:TerminateInstances",
  "ec2:DescribeInstanceTypeOfferings",
  "ec2:DescribeImages",
  "ec2:DescribeSubnets",
  "ec2:DescribeSpotPriceHistory",
  "iam:PassRole",
  "s3:GetObject",
  "s3:PutObject",
  "s3:ListBucket",
];

type LaunchPermission = { runInstances: DryRunResult; describeInstances: DryRunResult };

/**
 * Proves the launch is allowed without launching: the launch's own RunInstances request (built by
 * the same code: spot, IMDSv2 required, the instance profile, the project's group, tags on the
 * instance, volume and spot request), sent with DryRun.
 */
export const launchPermission: Requirement<DeployerContext, LaunchPermission> = {
  id: "permission-launch",
  title: "permission to launch and list workers (EC2 DryRun)",
  dependsOn: ["credentials", "region", "instance-type", "ami", "instance-profile", "security-group"],
  async observe(ctx, signal) {
    const [imageId, securityGroupId] = await Promise.all([
      // "ami" passed (a dependency), so the image exists.
      launchImage(ctx).then((image) => image?.imageId ?? ctx.ami ?? ""),
      projectSecurityGroupId(ctx.clients, ctx.names.securityGroup, ctx.names.project, signal),
    ]);
    const [runInstances, describeInstances] = await Promise.all([
      dryRunRunInstances(
        ctx.clients,
        runInstancesInput(
          workerRunSpec({
            project: ctx.names.project,
            imageId,
            instanceType: ctx.instanceType,
            // "security-group" passed (a dependency); were it gone since, AWS answers about the
            // empty id instead of silently checking the default group.
            securityGroupId: securityGroupId ?? "",
            instanceProfileName: ctx.names.instanceProfile,
            launchId: PREFLIGHT_LAUNCH_ID,
            ...(ctx.model ? { model: ctx.model } : {}),
          }),
        ),
        signal,
      ),
      dryRunDescribeInstances(ctx.clients, signal),
    ]);
    return { runInstances, describeInstances };
  },
  verdict(obs, ctx) {
    const denied = deniedDryRuns({ "ec2:RunInstances": obs.runInstances, "ec2:DescribeInstances": obs.describeInstances });
    if (denied.length === 0) return { status: "pass", observed: "RunInstances and DescribeInstances allowed (DryRun)" };
    return {
      status: "fail",
      observed: `denied: ${denied.join("; ")}`,
      fix: {
        command: `aws iam attach-user-policy --user-name <user> --policy-arn <policy-arn>   # grant ${DEPLOYER_ACTIONS.slice(0, 4).join(", ")} for ${ctx.names.project}`,
        needs: ["user", "policy-arn"],
      },
    };
  },
};


/** IAM policy simulation of everything the deployer will do; "not verified" is a warning, never a pass. */
export const simulatedPermissions: Requirement<DeployerContext, SimulationResult> = {
  id: "permission-simulation",
  title: "IAM policy simulation of the deployer's actions",
  dependsOn: ["credentials"],
  async observe(ctx, signal) {
    const who = await ctx.identity();
    return simulateCallerActions(ctx.clients, who.arn, DEPLOYER_ACTIONS, signal);
  },
  verdict(obs) {
    if (!obs.verified) return { status: "warn", observed: `not verified: ${obs.reason}` };
    if (obs.denied.length === 0) return { status: "pass", observed: `${DEPLOYER_ACTIONS.length} actions allowed` };
    return {
      status: "fail",
      observed: `denied by policy: ${obs.denied.join(", ")}`,
      fix: { command: "aws iam attach-user-policy --user-name <user> --policy-arn <policy-arn>", needs: ["user", "policy-arn"] },
    };
  },
};
