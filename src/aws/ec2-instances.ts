/**
 * The narrow EC2 surface of launch, status, down and leaks, in plain shapes: no SDK type leaks
 * out, so src/deployer runs the same code against moto, AWS and an in-memory fake (test/unit).
 * Every list follows NextToken (moto's MaxResults counts reservations, AWS pages anyway).
 */
import type { _InstanceType, Filter, Instance, RunInstancesCommandInput } from "@aws-sdk/client-ec2";
import type { AwsClients } from "./clients.js";
import { awsErrorName } from "./errors.js";
import { zonesOffering } from "./ec2-discovery.js";
import { defaultVpcId, findSecurityGroup } from "./ec2.js";
import { fromPairs, opts, toPairs } from "./shapes.js";

export { LIVE_STATES, type InstanceState } from "./instance-states.js";
import type { InstanceState } from "./instance-states.js";

export interface InstanceSummary {
  instanceId: string;
  state: InstanceState;
  availabilityZone: string | undefined;
  instanceType: string | undefined;
  launchTime: Date | undefined;
  privateIp: string | undefined;
  /** "spot" or "on-demand" (AWS omits InstanceLifecycle for on-demand). */
  market: "spot" | "on-demand";
  tags: Record<string, string>;
}

/** Instances whose tags all match (and, when given, whose state is one of `states`). */
export interface InstanceQuery {
  tags: Record<string, string>;
  states?: readonly InstanceState[];
}

export interface RunSpec {
  imageId: string;
  instanceType: string;
  /** Absent: AWS picks the default VPC's subnet (preflight's DryRun). */
  subnetId?: string;
  securityGroupId: string;
  instanceProfileName: string;
  /** Plain text; base64-encoded here, as the API wants it. */
  userData: string;
  /** Applied at creation to the instance, its volumes and its spot request (tag-on-create). */
  tags: Record<string, string>;
  /** Same token, same request: AWS returns the first instance instead of launching a second. */
  clientToken?: string;
  metadataHopLimit: number;
  /** Absent: the image's own root volume. */
  rootVolume?: { deviceName: string; sizeGiB: number; throughputMiBps?: number; iops?: number };
  /** Absent: spot. "on-demand" only for a failover's last resort (the worker policy must allow it). */
  market?: "spot" | "on-demand";
}

/** One instance's RunInstances request; preflight sends the same one with DryRun. */
export function runInstancesInput(spec: RunSpec): RunInstancesCommandInput {
  const tags = toPairs(spec.tags);
  return {
    ImageId: spec.imageId,
    InstanceType: spec.instanceType as _InstanceType,
    MinCount: 1,
    MaxCount: 1,
    ...(spec.subnetId ? { SubnetId: spec.subnetId } : {}),
    SecurityGroupIds: [spec.securityGroupId],
    IamInstanceProfile: { Name: spec.instanceProfileName },
    UserData: Buffer.from(spec.userData, "utf8").toString("base64"),
    ...(spec.clientToken ? { ClientToken: spec.clientToken } : {}),
    // A shutdown from inside (an operator's, or a failed boot's) ends the instance and its bill.
    InstanceInitiatedShutdownBehavior: "terminate",
    // One-time spot that terminates on interruption: a persistent request would relaunch
    // capacity behind synkti's back, and "stop" would keep a billed volume of no value.
    // On-demand sends no market option at all (that is how RunInstances says on-demand).
    ...(spec.market === "on-demand"
      ? {}
      : { InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" } } }),
    MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled", HttpPutResponseHopLimit: spec.metadataHopLimit, InstanceMetadataTags: "enabled" },
    // gp3, with throughput provisioned for the weights where they land on it (worker-instance.ts); the volume ends with the instance.
    // Encryption follows the account's EBS default (a KMS key the worker role may not be granted).
    ...(spec.rootVolume
      ? { BlockDeviceMappings: [{ DeviceName: spec.rootVolume.deviceName, Ebs: { VolumeSize: spec.rootVolume.sizeGiB, VolumeType: "gp3", DeleteOnTermination: true, ...(spec.rootVolume.throughputMiBps ? { Throughput: spec.rootVolume.throughputMiBps } : {}), ...(spec.rootVolume.iops ? { Iops: spec.rootVolume.iops } : {}) } }] }
      : {}),
    TagSpecifications: [
      { ResourceType: "instance", Tags: tags },
      { ResourceType: "volume", Tags: tags },
      // An on-demand instance has no spot request to tag (AWS refuses the tag specification).
      ...(spec.market === "on-demand" ? [] : [{ ResourceType: "spot-instances-request" as const, Tags: tags }]),
    ],
  };
}

export interface TerminateOutcome {
  instanceId: string;
  /** The state AWS reported after the call, or "not-found" when AWS does not know the id (yet). */
  state: InstanceState | "not-found";
}

export interface VolumeSummary {
  volumeId: string;
  state: string;
  availabilityZone: string | undefined;
  tags: Record<string, string>;
}

export interface SpotRequestSummary {
  requestId: string;
  state: string;
  instanceId: string | undefined;
  tags: Record<string, string>;
}

export interface Ec2Instances {
  describe(query: InstanceQuery, signal?: AbortSignal): Promise<InstanceSummary[]>;
  run(spec: RunSpec, signal?: AbortSignal): Promise<InstanceSummary>;
  terminate(ids: string[], signal?: AbortSignal): Promise<TerminateOutcome[]>;
  tag(ids: string[], tags: Record<string, string>, signal?: AbortSignal): Promise<void>;
  zonesOffering(instanceType: string, signal?: AbortSignal): Promise<string[]>;
  /** The default VPC's default subnet of each availability zone. */
  defaultSubnets(signal?: AbortSignal): Promise<Record<string, string>>;
  /** The security group with this name in the default VPC. */
  securityGroupId(name: string, signal?: AbortSignal): Promise<string | undefined>;
  volumes(query: { tags: Record<string, string>; states?: string[] }, signal?: AbortSignal): Promise<VolumeSummary[]>;
  spotRequests(query: { tags: Record<string, string>; states?: string[] }, signal?: AbortSignal): Promise<SpotRequestSummary[]>;
}

const sdk = () => import("@aws-sdk/client-ec2");
const tagFilters = (tags: Record<string, string>): Filter[] => Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] }));

export function toSummary(i: Instance): InstanceSummary {
  return {
    instanceId: i.InstanceId ?? "",
    state: (i.State?.Name ?? "pending") as InstanceState,
    availabilityZone: i.Placement?.AvailabilityZone,
    instanceType: i.InstanceType,
    launchTime: i.LaunchTime,
    privateIp: i.PrivateIpAddress,
    market: i.InstanceLifecycle === "spot" ? "spot" : "on-demand",
    tags: fromPairs(i.Tags),
  };
}

/** Pages through a Describe* call, collecting what `take` extracts from each page. */
async function paged<Out extends { NextToken?: string | undefined }, T>(
  send: (NextToken: string | undefined) => Promise<Out>,
  take: (page: Out) => T[],
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await send(token);
    all.push(...take(page));
    token = page.NextToken;
  } while (token);
  return all;
}

export function createEc2Instances(clients: AwsClients): Ec2Instances {
  const ec2 = () => Promise.all([sdk(), clients.ec2()]);

  async function terminate(ids: string[], signal?: AbortSignal): Promise<TerminateOutcome[]> {
    if (ids.length === 0) return [];
    const [{ TerminateInstancesCommand }, client] = await ec2();
    try {
      const out = await client.send(new TerminateInstancesCommand({ InstanceIds: ids }), opts(signal));
      return (out.TerminatingInstances ?? []).map((t) => ({ instanceId: t.InstanceId ?? "", state: (t.CurrentState?.Name ?? "shutting-down") as InstanceState }));
    } catch (error) {
      if (!awsErrorName(error).startsWith("InvalidInstanceID")) throw error;
      if (ids.length === 1) return [{ instanceId: ids[0]!, state: "not-found" }];
      // One id AWS does not know (yet: eventual consistency) fails the whole call; go one by one.
      return (await Promise.all(ids.map((id) => terminate([id], signal)))).flat();
    }
  }

  return {
    async describe(query, signal) {
      const [{ DescribeInstancesCommand }, client] = await ec2();
      const Filters = [...tagFilters(query.tags), ...(query.states ? [{ Name: "instance-state-name", Values: [...query.states] }] : [])];
      return paged(
        (NextToken) => client.send(new DescribeInstancesCommand({ Filters, NextToken }), opts(signal)),
        (page) => (page.Reservations ?? []).flatMap((r) => r.Instances ?? []).map(toSummary),
      );
    },

    async run(spec, signal) {
      const [{ RunInstancesCommand }, client] = await ec2();
      const out = await client.send(new RunInstancesCommand(runInstancesInput(spec)), opts(signal));
      const instance = out.Instances?.[0];
      if (!instance?.InstanceId) throw new Error("RunInstances answered without an instance");
      return toSummary(instance);
    },

    terminate,

    async tag(ids, tags, signal) {
      if (ids.length === 0) return;
      const [{ CreateTagsCommand }, client] = await ec2();
      await client.send(new CreateTagsCommand({ Resources: ids, Tags: toPairs(tags) }), opts(signal));
    },

    zonesOffering: (instanceType, signal) => zonesOffering(clients, instanceType, signal),

    async defaultSubnets(signal) {
      const [{ DescribeSubnetsCommand }, client] = await ec2();
      const subnets = await paged(
        (NextToken) => client.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }], NextToken }), opts(signal)),
        (page) => page.Subnets ?? [],
      );
      return Object.fromEntries(subnets.filter((s) => s.AvailabilityZone && s.SubnetId).map((s) => [s.AvailabilityZone!, s.SubnetId!]));
    },

    async securityGroupId(name, signal) {
      const vpcId = await defaultVpcId(clients, signal);
      return vpcId ? (await findSecurityGroup(clients, vpcId, name, signal))?.groupId : undefined;
    },

    async volumes(query, signal) {
      const [{ DescribeVolumesCommand }, client] = await ec2();
      const Filters = [...tagFilters(query.tags), ...(query.states ? [{ Name: "status", Values: query.states }] : [])];
      const volumes = await paged(
        (NextToken) => client.send(new DescribeVolumesCommand({ Filters, NextToken }), opts(signal)),
        (page) => page.Volumes ?? [],
      );
      return volumes.map((v) => ({ volumeId: v.VolumeId ?? "", state: v.State ?? "unknown", availabilityZone: v.AvailabilityZone, tags: fromPairs(v.Tags) }));
    },

    async spotRequests(query, signal) {
      const [{ DescribeSpotInstanceRequestsCommand }, client] = await ec2();
      const Filters = [...tagFilters(query.tags), ...(query.states ? [{ Name: "state", Values: query.states }] : [])];
      const requests = await paged(
        (NextToken) => client.send(new DescribeSpotInstanceRequestsCommand({ Filters, NextToken }), opts(signal)),
        (page) => page.SpotInstanceRequests ?? [],
      );
      return requests.map((r) => ({ requestId: r.SpotInstanceRequestId ?? "", state: r.State ?? "unknown", instanceId: r.InstanceId, tags: fromPairs(r.Tags) }));
    },
  };
}
