/**
 * The ELBv2 target calls, in plain shapes, for both sides: the worker finds the project's target
 * group by name (DescribeTargetGroups only: the worker policy grants no attribute or tag reads) and
 * registers or deregisters its own instance; the deployer lists the targets' health (`synkti
 * status`) and deregisters them all before terminating (`synkti down`). The load balancer and the
 * target group themselves: ./elbv2.ts.
 */
import { orAbsent } from "./absent.js";
import type { AwsClients } from "./clients.js";
import { opts } from "./shapes.js";

export interface TargetGroupRef {
  arn: string;
  name: string;
  /** The traffic port (vLLM's 8000): targets are registered on it. */
  port: number;
}

/** A target without a port is the target group's port (how an instance registers by default). */
export interface TargetRef {
  id: string;
  port?: number;
}

/** One registered target and what the load balancer thinks of it. */
export interface TargetHealthInfo {
  id: string;
  port: number | null;
  /** initial | healthy | unhealthy | unhealthy.draining | unused | draining | unavailable */
  state: string;
  /** AWS's reason code (e.g. Target.FailedHealthChecks), null when healthy. */
  reason: string | null;
  description: string | null;
}

const sdk = () => import("@aws-sdk/client-elastic-load-balancing-v2");
const toTargets = (targets: TargetRef[]) => targets.map((t) => ({ Id: t.id, ...(t.port !== undefined ? { Port: t.port } : {}) }));
const instanceOf = (group: TargetGroupRef, instanceId: string): TargetRef => ({ id: instanceId, port: group.port });

export async function lookupTargetGroup(clients: AwsClients, name: string, signal?: AbortSignal): Promise<TargetGroupRef | undefined> {
  const [{ DescribeTargetGroupsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const tg = await orAbsent(["TargetGroupNotFound", "TargetGroupNotFoundException"], async () => {
    const out = await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }), opts(signal));
    return out.TargetGroups?.[0];
  });
  return tg?.TargetGroupArn ? { arn: tg.TargetGroupArn, name, port: tg.Port ?? 0 } : undefined;
}

export async function describeTargetHealth(clients: AwsClients, targetGroupArn: string, signal?: AbortSignal): Promise<TargetHealthInfo[]> {
  const [{ DescribeTargetHealthCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), opts(signal));
  return (out.TargetHealthDescriptions ?? []).map((d) => ({
    id: d.Target?.Id ?? "",
    port: d.Target?.Port ?? null,
    state: d.TargetHealth?.State ?? "unknown",
    reason: d.TargetHealth?.Reason ?? null,
    description: d.TargetHealth?.Description ?? null,
  }));
}

export async function registerTargets(clients: AwsClients, targetGroupArn: string, targets: TargetRef[], signal?: AbortSignal): Promise<void> {
  const [{ RegisterTargetsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: toTargets(targets) }), opts(signal));
}

export async function deregisterTargets(clients: AwsClients, targetGroupArn: string, targets: TargetRef[], signal?: AbortSignal): Promise<void> {
  const [{ DeregisterTargetsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: toTargets(targets) }), opts(signal));
}

/** The worker's own instance, on the group's traffic port. */
export const registerInstance = (clients: AwsClients, group: TargetGroupRef, instanceId: string, signal?: AbortSignal): Promise<void> =>
  registerTargets(clients, group.arn, [instanceOf(group, instanceId)], signal);

/** A target that is not registered (any more) counts as deregistered: AWS's InvalidTarget. */
export async function deregisterInstance(clients: AwsClients, group: TargetGroupRef, instanceId: string, signal?: AbortSignal): Promise<void> {
  await orAbsent(["InvalidTarget", "InvalidTargetException"], () => deregisterTargets(clients, group.arn, [instanceOf(group, instanceId)], signal));
}
