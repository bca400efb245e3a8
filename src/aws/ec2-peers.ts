/**
 * The worker agent's narrow EC2 surface: list its peers, tag itself, terminate itself. Plain shapes
 * out (no SDK types), so the agent's discovery runs the same against moto, AWS and unit fakes.
 * Every Describe follows NextToken (moto's MaxResults counts reservations; AWS pages anyway) and
 * reports how many API calls a listing took: the cluster-wide call budget counts calls, not polls.
 */
import type { AwsClients } from "./clients.js";
import { awsErrorName } from "./errors.js";
import { fromPairs, opts } from "./shapes.js";

export interface PeerInstance {
  instanceId: string;
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

export interface Ec2Peers {
  /** Running instances carrying every one of `tags` (e.g. SynktiCluster=P, SynktiRole=worker). */
  listRunning(tags: Record<string, string>, signal?: AbortSignal): Promise<PeerListing>;
  tagSelf(instanceId: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void>;
  /** With `dryRun`, only proves permission (EC2 DryRun): the dry-run lives in the layer that acts. */
  terminateSelf(instanceId: string, options: { dryRun: boolean }, signal?: AbortSignal): Promise<TerminateSelfOutcome>;
}

/** AWS allows 5..1000; the largest page keeps a 1000-member cluster to one call a listing. */
export const DESCRIBE_PAGE_SIZE = 1000;

const sdk = () => import("@aws-sdk/client-ec2");

export function createEc2Peers(clients: AwsClients): Ec2Peers {
  const ec2 = () => Promise.all([sdk(), clients.ec2()]);
  return {
    async listRunning(tags, signal) {
      const [{ DescribeInstancesCommand }, client] = await ec2();
      const Filters = [
        ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
        { Name: "instance-state-name", Values: ["running"] },
      ];
      const instances: PeerInstance[] = [];
      let calls = 0;
      let NextToken: string | undefined;
      do {
        const page = await client.send(new DescribeInstancesCommand({ Filters, NextToken, MaxResults: DESCRIBE_PAGE_SIZE }), opts(signal));
        calls += 1;
        for (const reservation of page.Reservations ?? []) {
          for (const i of reservation.Instances ?? []) {
            if (!i.InstanceId) continue;
            instances.push({
              instanceId: i.InstanceId,
              availabilityZone: i.Placement?.AvailabilityZone,
              instanceType: i.InstanceType,
              launchTime: i.LaunchTime,
              tags: fromPairs(i.Tags),
            });
          }
        }
        NextToken = page.NextToken;
      } while (NextToken);
      return { instances, calls };
    },

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
