import { deniedDryRuns, dryRunDescribeInstances, dryRunRunInstances, projectSecurityGroupId, type DryRunResult } from "../../aws/ec2-discovery.js";
import { simulateCallerActions, type SimulationResult } from "../../aws/iam-simulation.js";
import { ROLE_WORKER, TAG_CLUSTER, TAG_ROLE } from "../../infra/names.js";
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
  "iam:PassRole",
  "s3:GetObject",
  "s3:PutObject",
  "s3:ListBucket",
];

type LaunchPermission = { runInstances: DryRunResult; describeInstances: DryRunResult };

/**
 * Proves the launch is allowed without launching: RunInstances with DryRun, shaped exactly like
 * the real launch (spot, IMDSv2 required, the instance profile, the project's tags).
 */
export const launchPermission: Requirement<DeployerContext, LaunchPermission> = {
  id: "permission-launch",
  title: "permission to launch and list workers (EC2 DryRun)",
  dependsOn: ["credentials", "region", "instance-type", "ami", "instance-profile", "security-group"],
  async observe(ctx, signal) {
    const [imageId, securityGroupId] = await Promise.all([
      // "ami" passed (a dependency), so the image exists.
      launchImage(ctx, signal).then((image) => image?.imageId ?? ctx.ami ?? ""),
      projectSecurityGroupId(ctx.clients, ctx.names.securityGroup, ctx.names.project, signal),
    ]);
    const [runInstances, describeInstances] = await Promise.all([
      dryRunRunInstances(
        ctx.clients,
        {
          InstanceType: ctx.instanceType,
          ImageId: imageId,
          // The project's group, as the launch uses: on AWS the default group would be checked instead.
          ...(securityGroupId ? { SecurityGroupIds: [securityGroupId] } : {}),
          IamInstanceProfile: { Name: ctx.names.instanceProfile },
          InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" } },
          MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled", InstanceMetadataTags: "enabled" },
          TagSpecifications: [
            {
              ResourceType: "instance",
              Tags: [
                { Key: TAG_CLUSTER, Value: ctx.names.project },
                { Key: TAG_ROLE, Value: ROLE_WORKER },
              ],
            },
          ],
        },
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
