/**
 * What the booter reads from (and does to) moto's EC2: the instances, each one's user-data and
 * instance profile role, and termination. The booter talks to moto directly, never through a
 * fault proxy: faults are for the code under test, not for the machinery playing the cloud.
 */
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client, TerminateInstancesCommand, type Filter } from "@aws-sdk/client-ec2";
import { GetInstanceProfileCommand, IAMClient } from "@aws-sdk/client-iam";
import { sdkConfigFor } from "../moto.js";

export interface ObservedInstance {
  instanceId: string;
  /** pending | running | shutting-down | terminated | stopping | stopped */
  state: string;
  instanceType: string;
  availabilityZone: string;
  imageId: string;
  accountId: string;
  lifecycle: "spot" | "on-demand";
  tags: Record<string, string>;
  /** InstanceMetadataTags=enabled: the instance can read its tags from IMDS. */
  metadataTags: boolean;
  instanceProfileArn?: string;
}

export class MotoEc2 {
  private readonly ec2: EC2Client;
  private readonly iam: IAMClient;

  constructor(motoUrl: string, region = "us-east-1") {
    // One attempt, short timeouts: the next poll is the retry, and a stopped moto must not hang us.
    const config = { ...sdkConfigFor(motoUrl, { region }), maxAttempts: 1, requestHandler: { requestTimeout: 5000, connectionTimeout: 2000 } };
    this.ec2 = new EC2Client(config);
    this.iam = new IAMClient(config);
  }

  /** Every instance (any state), optionally only those tagged SynktiCluster=<project>. Follows NextToken. */
  async instances(project?: string): Promise<ObservedInstance[]> {
    const filters: Filter[] = project === undefined ? [] : [{ Name: "tag:SynktiCluster", Values: [project] }];
    const found: ObservedInstance[] = [];
    let token: string | undefined;
    do {
      // moto's MaxResults counts reservations, not instances: only NextToken says when to stop.
      const page = await this.ec2.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: 100, NextToken: token }));
      for (const reservation of page.Reservations ?? []) {
        for (const i of reservation.Instances ?? []) {
          if (!i.InstanceId) continue;
          found.push({
            instanceId: i.InstanceId,
            state: i.State?.Name ?? "unknown",
            instanceType: i.InstanceType ?? "unknown",
            availabilityZone: i.Placement?.AvailabilityZone ?? "us-east-1a",
            imageId: i.ImageId ?? "ami-00000000",
            accountId: reservation.OwnerId ?? "123456789012",
            lifecycle: i.InstanceLifecycle === "spot" ? "spot" : "on-demand",
            tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
            metadataTags: i.MetadataOptions?.InstanceMetadataTags === "enabled",
            ...(i.IamInstanceProfile?.Arn ? { instanceProfileArn: i.IamInstanceProfile.Arn } : {}),
          });
        }
      }
      token = page.NextToken;
    } while (token);
    return found;
  }

  /** The user-data the instance was launched with, decoded ("" when it has none). */
  async userData(instanceId: string): Promise<string> {
    const answer = await this.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "userData" }));
    const value = answer.UserData?.Value;
    return value ? Buffer.from(value, "base64").toString("utf8") : "";
  }

  /**
   * The role IMDS names under iam/security-credentials/: the instance profile's role. null when the
   * instance has no profile, or its profile no role (IMDS then has no credentials, as on EC2); the
   * profile's own name when IAM cannot say (synkti names the role after the profile anyway).
   */
  async roleName(instanceProfileArn: string | undefined): Promise<string | null> {
    if (!instanceProfileArn) return null;
    const profile = instanceProfileArn.slice(instanceProfileArn.lastIndexOf("/") + 1);
    try {
      const answer = await this.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profile }));
      return answer.InstanceProfile?.Roles?.[0]?.RoleName ?? null;
    } catch {
      return profile;
    }
  }

  async terminate(instanceId: string): Promise<void> {
    await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
  }

  close(): void {
    this.ec2.destroy();
    this.iam.destroy();
  }
}
