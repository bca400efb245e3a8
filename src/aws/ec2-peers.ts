/**
 * The worker agent's narrow EC2 surface: list its peers, tag itself, terminate itself. Plain shapes
 * out (no SDK types), so the agent's discovery runs the same against moto, AWS and unit fakes.
 * Every Describe follows NextToken (moto's MaxResults counts reservations; AWS pages anyway) and
 * reports how many API calls a listing took: the cluster-wide call budget counts calls, not polls.
 */
import type { Instance } from "@aws-sdk/client-ec2";
import type { AwsClients } from "./clients.js";
import { awsErrorName } from "./errors.js";
import type { InstanceState } from "./instance-states.js";
import { toSummary } from "./ec2-instances.js";
import { opts } from "./shapes.js";

export interface PeerInstance {
  instanceId: string;
  /** EC2's state name; absent means running (what a listing of running instances holds). */
  state?: InstanceState;
  availabilityZone: string | undefined;
  instanceType: string | undefined;
  launchTime: Date | undefined;
  tags: Record<string, string>;
}

export interface PeerListing {
  instances: PeerInstance[];
  /** DescribeInstances calls (pages) this listing took. */
  calls: number;
}

export type TerminateSelfOutcome = { terminated: true; state: string } | { terminated: false; dryRun: true; allowed: boolean; reason?: string };

/** One instance as EC2 sees it now, or "gone": EC2 does not know the id (InvalidInstanceID.NotFound). */
export type InstanceCheck = PeerInstance | "gone";

export interface Ec2Peers {
  /** Running instances carrying every one of `tags` (e.g. SynktiCluster=P, SynktiRole=worker). */
  listRunning(tags: Record<string, string>, signal?: AbortSignal): Promise<PeerListing>;
  /**
   * Instances carrying every one of `tags` in any of `states` (every state when absent): one
   * listing that serves membership (the running ones) and repair's census (pending ones hold their
   * slot; stopped or terminated ones name a slot's last holder while EC2 still shows them).
   */
  list(tags: Record<string, string>, states: readonly InstanceState[] | undefined, signal?: AbortSignal): Promise<PeerListing>;
  /** DescribeInstances InstanceIds=[id]: one cheap call about one instance (a re-read before acting). */
  describeOne(instanceId: string, signal?: AbortSignal): Promise<InstanceCheck>;
  /**
   * DescribeInstances InstanceIds=[...] (a watcher's checks of one round, a few ids): one call, or
   * one per id when EC2 does not know one of them (it then refuses the whole call).
   */
  describeIds(instanceIds: readonly string[], signal?: AbortSignal): Promise<Map<string, InstanceCheck>>;
  tagSelf(instanceId: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void>;
  /** With `dryRun`, only proves permission (EC2 DryRun): the dry-run lives in the layer that acts. */
  terminateSelf(instanceId: string, options: { dryRun: boolean }, signal?: AbortSignal): Promise<TerminateSelfOutcome>;
}

/** AWS allows 5..1000; the largest page keeps a 1000-member cluster to one call a listing. */
export const DESCRIBE_PAGE_SIZE = 1000;

const sdk = () => import("@aws-sdk/client-ec2");

/** EC2's answer read by the one mapping (toSummary), without the private IP and market a peer listing does not carry. */
function peerInstance(i: Instance): PeerInstance {
  const { instanceId, state, availabilityZone, instanceType, launchTime, tags } = toSummary(i);
  return { instanceId, state, availabilityZone, instanceType, launchTime, tags };
}

export function createEc2Peers(clients: AwsClients): Ec2Peers {
  const ec2 = () => Promise.all([sdk(), clients.ec2()]);
  const list: Ec2Peers["list"] = async (tags, states, signal) => {
    const [{ DescribeInstancesCommand }, client] = await ec2();
    const Filters = [
      ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
      ...(states ? [{ Name: "instance-state-name", Values: [...states] }] : []),
    ];
    const instances: PeerInstance[] = [];
    let calls = 0;
    let NextToken: string | undefined;
    do {
      const page = await client.send(new DescribeInstancesCommand({ Filters, NextToken, MaxResults: DESCRIBE_PAGE_SIZE }), opts(signal));
      calls += 1;
      for (const reservation of page.Reservations ?? []) for (const i of reservation.Instances ?? []) if (i.InstanceId) instances.push(peerInstance(i));
      NextToken = page.NextToken;
    } while (NextToken);
    return { instances, calls };
  };
  const describeIds: Ec2Peers["describeIds"] = async (ids, signal) => {
    const found = new Map<string, InstanceCheck>();
    if (ids.length === 0) return found;
    const [{ DescribeInstancesCommand }, client] = await ec2();
    try {
      const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [...ids] }), opts(signal));
      for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) if (i.InstanceId) found.set(i.InstanceId, peerInstance(i));
    } catch (error) {
      // Unknown to EC2 (terminated long ago, or never existed): as dead as terminated. With several
      // ids EC2 refuses them all for one unknown id: ask one by one.
      if (!awsErrorName(error).startsWith("InvalidInstanceID")) throw error;
      if (ids.length > 1) for (const [id, check] of await Promise.all(ids.map(async (id) => [id, (await describeIds([id], signal)).get(id)] as const))) if (check) found.set(id, check);
    }
    for (const id of ids) if (!found.has(id)) found.set(id, "gone");
    return found;
  };
  return {
    listRunning: (tags, signal) => list(tags, ["running"], signal),
    list,

    async describeOne(instanceId, signal) {
      return (await describeIds([instanceId], signal)).get(instanceId) ?? "gone";
    },

    describeIds,

    async tagSelf(instanceId, tags, signal) {
      const [{ CreateTagsCommand }, client] = await ec2();
      const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
      await client.send(new CreateTagsCommand({ Resources: [instanceId], Tags }), opts(signal));
    },

    async terminateSelf(instanceId, options, signal) {
      const [{ TerminateInstancesCommand }, client] = await ec2();
      try {
        const out = await client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId], DryRun: options.dryRun }), opts(signal));
        if (options.dryRun) return { terminated: false, dryRun: true, allowed: true }; // an emulator may ignore DryRun
        return { terminated: true, state: out.TerminatingInstances?.[0]?.CurrentState?.Name ?? "shutting-down" };
      } catch (error) {
        const name = awsErrorName(error);
        if (options.dryRun && name === "DryRunOperation") return { terminated: false, dryRun: true, allowed: true };
        if (options.dryRun && (name === "UnauthorizedOperation" || name.startsWith("AccessDenied"))) {
          return { terminated: false, dryRun: true, allowed: false, reason: error instanceof Error ? error.message : name };
        }
        throw error;
      }
    },
  };
}
