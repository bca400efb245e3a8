import { CreateBucketCommand, DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { AttachRolePolicyCommand, CreatePolicyCommand } from "@aws-sdk/client-iam";
import { RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infraDestroy, infraStatus, infraUp, observeInfra, observeSecurityGroup } from "../../../src/infra/index.js";
import type { ProjectNames } from "../../../src/infra/names.js";
import { startInfraHarness, type InfraHarness } from "./harness.js";

let h: InfraHarness;
beforeAll(async () => {
  h = await startInfraHarness();
});
afterAll(async () => h?.close());

/**
 * A bucket with objects, old versions and a delete marker, made before `infra up` adopts it (moto
 * applies the TLS-only Deny to plain-HTTP object calls, since it ignores policy conditions).
 */
async function bucketWithHistory(names: ProjectNames): Promise<void> {
  await h.s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
  await h.s3.send(new PutBucketVersioningCommand({ Bucket: names.bucket, VersioningConfiguration: { Status: "Enabled" } }));
  for (const Key of ["bin/synkti", "bin/synkti", "qwen/manifest.json", "checkpoints/a"]) {
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key, Body: "x" }));
  }
  await h.s3.send(new DeleteObjectCommand({ Bucket: names.bucket, Key: "checkpoints/a" }));
}

describe("infra destroy", () => {
  it("without confirmation lists everything (the bucket with all its versions) and deletes nothing", async () => {
    const names = h.project("list");
    await bucketWithHistory(names);
    await infraUp(h.deps(), names);
    const listing = await infraDestroy(h.deps(), names, { confirmed: false });
    expect(listing).toMatchObject({ confirmed: false, changed: false, instances: [] });
    expect(listing.resources.map((r) => [r.kind, r.action])).toEqual([
      ["bucket", "delete"],
      ["role", "delete"],
      ["role-policy", "delete"],
      ["instance-profile", "delete"],
      ["listener", "delete"],
      ["load-balancer", "delete"],
      ["target-group", "delete"],
      ["load-balancer-security-group", "delete"],
      ["security-group", "delete"],
      ["api-key", "delete"],
    ]);
    expect(listing.resources[0]?.detail).toBe("bucket with 5 objects (all versions)"); // 4 versions + 1 delete marker
    expect((await infraStatus(h.deps(), names)).ok).toBe(true);
  });

  it("with confirmation deletes everything listed, also a hand-attached managed policy's role; a re-run finds nothing", async () => {
    const names = h.project("yes");
    await bucketWithHistory(names);
    await infraUp(h.deps(), names);
    const managed = await h.iam.send(
      new CreatePolicyCommand({ PolicyName: `${names.project}-extra`, PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ssm:GetParameter", Resource: "*" }] }) }),
    );
    await h.iam.send(new AttachRolePolicyCommand({ RoleName: names.role, PolicyArn: managed.Policy?.Arn }));

    const result = await infraDestroy(h.deps(), names, { confirmed: true });
    expect(result).toMatchObject({ confirmed: true, changed: true });
    expect(result.resources.map((r) => r.action)).toEqual(Array(10).fill("deleted"));
    const seen = await observeInfra(h.deps(), names);
    expect([seen.bucket, seen.role, seen.rolePolicy, seen.instanceProfile].map((o) => o.state)).toEqual(Array(4).fill("missing"));
    expect(seen.securityGroup.state).toBe("missing");

    const again = await infraDestroy(h.deps(), names, { confirmed: true });
    expect(again).toMatchObject({ changed: false, instances: [] });
    expect(again.resources.map((r) => r.action)).toEqual(Array(9).fill("absent")); // no listener listed once the load balancer is gone
  });

  it("refuses while an instance still uses the security group, and proceeds once it is terminated", async () => {
    const names = h.project("busy");
    await infraUp(h.deps(), names);
    const group = await observeSecurityGroup(h.deps(), names);
    if (group.state !== "present") throw new Error("group missing after up");
    // Untagged on purpose: found through the group, not only through the project tag.
    const run = await h.ec2().send(
      new RunInstancesCommand({ ImageId: "ami-12c6146b", InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, SecurityGroupIds: [group.groupId] }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId ?? "";

    const refused = await infraDestroy(h.deps(), names, { confirmed: true });
    expect(refused).toMatchObject({ confirmed: true, changed: false, instances: [instanceId] });
    expect(refused.resources.every((r) => r.action === "delete")).toBe(true);
    expect((await infraStatus(h.deps(), names)).ok).toBe(true);

    await h.ec2().send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    expect((await infraDestroy(h.deps(), names, { confirmed: true })).changed).toBe(true);
  });

  it("counts an instance tagged with the project as a user too", async () => {
    const names = h.project("tagged");
    await infraUp(h.deps(), names);
    const run = await h.ec2().send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiCluster", Value: names.project }] }],
      }),
    );
    const result = await infraDestroy(h.deps(), names, { confirmed: true });
    expect(result.instances).toEqual([run.Instances?.[0]?.InstanceId]);
    expect(result.changed).toBe(false);
  });
});
