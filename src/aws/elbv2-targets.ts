/**
 * The ELBv2 calls a worker makes on its own behalf, in plain shapes: find the project's target group
 * by name (DescribeTargetGroups only: the worker policy grants no attribute or tag reads), and
 * register or deregister one instance on the group's traffic port.
 */
import { awsErrorName } from "./errors.js";
import type { AwsClients } from "./clients.js";

export interface TargetGroupRef {
  arn: string;
  name: string;
  /** The traffic port (vLLM's 8000): targets are registered on it. */
  port: number;
}

const sdk = () => import("@aws-sdk/client-elastic-load-balancing-v2");
const opts = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});

export async function lookupTargetGroup(clients: AwsClients, name: string, signal?: AbortSignal): Promise<TargetGroupRef | undefined> {
  const [{ DescribeTargetGroupsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  try {
    const out = await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }), opts(signal));
    const tg = out.TargetGroups?.[0];
    return tg?.TargetGroupArn ? { arn: tg.TargetGroupArn, name, port: tg.Port ?? 0 } : undefined;
  } catch (error) {
    if (["TargetGroupNotFound", "TargetGroupNotFoundException"].includes(awsErrorName(error))) return undefined;
    throw error;
  }
}

export async function registerInstance(clients: AwsClients, group: TargetGroupRef, instanceId: string, signal?: AbortSignal): Promise<void> {
  const [{ RegisterTargetsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: group.arn, Targets: [{ Id: instanceId, Port: group.port }] }), opts(signal));
}

/** A target that is not registered (any more) counts as deregistered: AWS's InvalidTarget. */
export async function deregisterInstance(clients: AwsClients, group: TargetGroupRef, instanceId: string, signal?: AbortSignal): Promise<void> {
  const [{ DeregisterTargetsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  try {
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: group.arn, Targets: [{ Id: instanceId, Port: group.port }] }), opts(signal));
  } catch (error) {
    if (awsErrorName(error) === "InvalidTarget" || awsErrorName(error) === "InvalidTargetException") return;
    throw error;
  }
}
