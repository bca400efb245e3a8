import { deniedDryRuns, dryRunDescribeInstances, dryRunRunInstances, projectSecurityGroupId, type DryRunResult } from "../../aws/ec2-discovery.js";
import { simulateCallerActions, type SimulationResult } from "../../aws/iam-simulation.js";
import { runInstancesInput } from "../../aws/ec2-instances.js";
import { PREFLIGHT_LAUNCH_ID, workerRunSpec } from "../../infra/worker-instance.js";
import type { Requirement } from "../types.js";
import { launchImage } from "./compute.js";
import type { DeployerContext } from "./context.js";

/**
 * Every API action the operator's everyday commands call: launch (and this preflight's own
 * observations), status, logs, endpoint, down, leaks and the uploads. The IAM policy simulation
 * proves these; the README lists them for an administrator (test/unit/preflight/permissions-readme
 * keeps the two equal). Checked against each call site in src/aws/ when a command grows a call.
 */
export const DEPLOYER_ACTIONS = [
  // launch, and preflight's observation of it (images, zones, quota, the infra it needs)
  "ec2:RunInstances",
  "ec2:CreateTags",
  "ec2:DescribeInstances",
  "ec2:DescribeInstanceTypeOfferings",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeImages",
  "ec2:DescribeSubnets",
  "ec2:DescribeVpcs",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSecurityGroupRules",
  "ec2:DescribeSpotPriceHistory",
  "servicequotas:GetServiceQuota",
  "iam:PassRole",
  "iam:GetRole",
  "iam:GetRolePolicy",
  "iam:GetInstanceProfile",
  "iam:SimulatePrincipalPolicy",
  // down and leaks
  "ec2:TerminateInstances",
  "ec2:DescribeVolumes",
  "ec2:DescribeSpotInstanceRequests",
  // the load balancer: status and endpoint read it, down deregisters the targets before terminating
  "elasticloadbalancing:DescribeLoadBalancers",
  "elasticloadbalancing:DescribeLoadBalancerAttributes",
  "elasticloadbalancing:DescribeListeners",
  "elasticloadbalancing:DescribeTargetGroups",
  "elasticloadbalancing:DescribeTargetGroupAttributes",
  "elasticloadbalancing:DescribeTags",
  "elasticloadbalancing:DescribeTargetHealth",
  "elasticloadbalancing:DeregisterTargets",
  // the API key: preflight checks it exists, endpoint --show-key reads it
  "ssm:DescribeParameters",
  "ssm:GetParameter",
  // the bucket: uploads, logs and status's failures, preflight's checks of binary, weights and bucket
  "s3:GetObject",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:ListBucket",
  "s3:ListBucketMultipartUploads",
  "s3:AbortMultipartUpload",
  "s3:GetBucketPublicAccessBlock",
  "s3:GetEncryptionConfiguration",
  "s3:GetBucketPolicy",
  "s3:GetLifecycleConfiguration",
  "s3:GetBucketTagging",
];

/**
 * What `synkti infra up|status|destroy` call besides the reads above: needed once, by whoever makes
 * the permanent resources. Not simulated before a launch (an operator who launches need not be
 * able to create roles); listed in the README with DEPLOYER_ACTIONS.
 */
export const INFRA_ACTIONS = [
  "ec2:CreateSecurityGroup",
  "ec2:AuthorizeSecurityGroupIngress",
  "ec2:RevokeSecurityGroupIngress",
  "ec2:DeleteSecurityGroup",
  "iam:CreateRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:TagRole",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:ListRolePolicies",
  "iam:ListAttachedRolePolicies",
  "iam:DetachRolePolicy",
  "iam:ListInstanceProfilesForRole",
  "iam:DeleteRole",
  "iam:CreateInstanceProfile",
  "iam:AddRoleToInstanceProfile",
  "iam:RemoveRoleFromInstanceProfile",
  "iam:TagInstanceProfile",
  "iam:DeleteInstanceProfile",
  "s3:CreateBucket",
  "s3:PutBucketPublicAccessBlock",
  "s3:PutEncryptionConfiguration",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketTagging",
  "s3:ListBucketVersions",
  "s3:DeleteObjectVersion",
  "s3:DeleteBucket",
  "elasticloadbalancing:CreateLoadBalancer",
  "elasticloadbalancing:ModifyLoadBalancerAttributes",
  "elasticloadbalancing:SetSecurityGroups",
  "elasticloadbalancing:SetSubnets",
  "elasticloadbalancing:AddTags",
  "elasticloadbalancing:DeleteLoadBalancer",
  "elasticloadbalancing:CreateTargetGroup",
  "elasticloadbalancing:ModifyTargetGroup",
  "elasticloadbalancing:ModifyTargetGroupAttributes",
  "elasticloadbalancing:DeleteTargetGroup",
  "elasticloadbalancing:CreateListener",
  "elasticloadbalancing:ModifyListener",
  "elasticloadbalancing:DeleteListener",
  "ssm:PutParameter",
  "ssm:AddTagsToResource",
  "ssm:DeleteParameter",
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
        command: `aws iam attach-user-policy --user-name <user> --policy-arn <policy-arn>   # grant ec2:RunInstances, ec2:CreateTags, ec2:DescribeInstances, iam:PassRole for ${ctx.names.project}`,
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
