import { DeleteBucketPolicyCommand, PutBucketEncryptionCommand, PutPublicAccessBlockCommand } from "@aws-sdk/client-s3";
import { PutRolePolicyCommand, RemoveRoleFromInstanceProfileCommand, UntagRoleCommand } from "@aws-sdk/client-iam";
import {
  AuthorizeSecurityGroupIngressCommand,
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSynktiError } from "../../../src/core/errors.js";
import { infraStatus, infraUp, observeBucket, observeRole, observeSecurityGroup } from "../../../src/infra/index.js";
import { startInfraHarness, type InfraHarness } from "./harness.js";

let h: InfraHarness;
beforeAll(async () => {
  h = await startInfraHarness();
});
afterAll(async () => h?.close());

describe("drift", () => {
  it("status names each drift; up repairs it and says updated; then all is present again", async () => {
    const names = h.project("drift");
    await infraUp(h.deps(), names);
    const group = await observeSecurityGroup(h.deps(), names);
    if (group.state !== "present") throw new Error("group missing after up");
    const groupId = group.groupId;

    await h.s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: names.bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true },
      }),
    );
    await h.s3.send(new DeleteBucketPolicyCommand({ Bucket: names.bucket }));
    await h.s3.send(
      new PutBucketEncryptionCommand({
        Bucket: names.bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" } }] },
      }),
    );
    await h.iam.send(new UntagRoleCommand({ RoleName: names.role, TagKeys: ["SynktiCluster"] }));
    const broad = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }] };
    await h.iam.send(new PutRolePolicyCommand({ RoleName: names.role, PolicyName: names.workerPolicy, PolicyDocument: JSON.stringify(broad) }));
    await h.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: names.instanceProfile, RoleName: names.role }));
    await h.ec2().send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
          { IpProtocol: "tcp", FromPort: 8000, ToPort: 8000, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
        ],
      }),
    );
    const statusRule = group.ingress.find((rule) => rule.fromPort === 8080)?.ruleId;
    await h.ec2().send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [statusRule ?? "?"] }));

    const status = await infraStatus(h.deps(), names);
    expect(status.ok).toBe(false);
    const detail = Object.fromEntries(status.resources.map((r) => [r.kind, `${r.state}: ${r.detail}`]));
    expect(detail.bucket).toMatch(/^drifted: .*BlockPublicAcls, BlockPublicPolicy off.*aws:kms, want AES256/);
    expect(detail.role).toBe(`drifted: tag SynktiCluster=${names.project} missing`);
    expect(detail["role-policy"]).toMatch(/^drifted: worker policy differs/);
    expect(detail["instance-profile"]).toBe(`drifted: role ${names.role} is not in the profile`);
    expect(detail["security-group"]).toMatch(/^drifted: missing tcp 8080 from the group itself; not allowed: .*tcp 22 from 0\.0\.0\.0\/0/);

    const repaired = await infraUp(h.deps(), names);
    expect(repaired.changed).toBe(true);
    // The five tampered with are updated; the load balancer's resources were left alone.
    expect(repaired.resources.filter((r) => r.action === "updated").map((r) => r.kind)).toEqual([
      "bucket",
      "role",
      "role-policy",
      "instance-profile",
      "security-group",
    ]);
    expect(await infraStatus(h.deps(), names)).toMatchObject({ ok: true });
    expect((await infraUp(h.deps(), names)).changed).toBe(false);
  });

  it("adopts a bucket someone created by hand and brings it to the desired settings", async () => {
    const names = h.project("adopt");
    await h.s3.send(new (await import("@aws-sdk/client-s3")).CreateBucketCommand({ Bucket: names.bucket }));
    const result = await infraUp(h.deps(), names);
    expect(result.resources[0]).toMatchObject({ kind: "bucket", action: "updated", changes: expect.arrayContaining(["public access block is not set"]) });
    expect(await observeBucket(h.deps(), names)).toMatchObject({ state: "present", encryption: "AES256" });
  });

  it("refuses, before creating anything, in a region without a default VPC", async () => {
    const region = "eu-west-3";
    const ec2 = h.ec2(region);
    const vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }))).Vpcs?.[0]?.VpcId ?? "";
    for (const s of (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }))).Subnets ?? []) {
      await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    }
    const gateways = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: "attachment.vpc-id", Values: [vpcId] }] }));
    for (const g of gateways.InternetGateways ?? []) {
      await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId, VpcId: vpcId }));
      await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId }));
    }
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));

    const names = h.project("novpc");
    const error = await infraUp(h.deps(region), names).catch((e: unknown) => e);
    expect(isSynktiError(error) && error.kind).toBe("unsafe");
    expect(isSynktiError(error) && error.remedy).toBe(`aws ec2 create-default-vpc --region ${region}`);
    expect(await observeBucket(h.deps(region), names)).toEqual({ state: "missing" });
    expect(await observeRole(h.deps(region), names)).toEqual({ state: "missing" });
    const status = await infraStatus(h.deps(region), names);
    expect(status.resources.find((r) => r.kind === "security-group")).toMatchObject({ state: "missing", detail: expect.stringContaining("no default VPC") });
    expect(status.resources.find((r) => r.kind === "load-balancer-security-group")).toMatchObject({ state: "missing", detail: expect.stringContaining("no default VPC") });
  });
});
