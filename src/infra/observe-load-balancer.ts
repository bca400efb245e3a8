import { createEc2Instances } from "../aws/ec2-instances.js";
import * as ec2 from "../aws/ec2.js";
import * as elbv2 from "../aws/elbv2.js";
import { listListeners } from "../aws/elbv2-listeners.js";
import type { ListenerInfo } from "../aws/elbv2-listeners.js";
import type { LoadBalancerInfo, TargetGroupInfo } from "../aws/elbv2.js";
import * as ssm from "../aws/ssm.js";
import { doing, type ObserveDeps } from "./deps.js";
import type { ProjectNames } from "./names.js";

/**
 * The load balancer with its listeners, and the zones it could be enabled in: each zone's default
 * subnet (a worker launched in any of them must be reachable).
 */
export type LoadBalancerObservation =
  | { state: "missing"; defaultSubnets: Record<string, string> }
  | { state: "present"; loadBalancer: LoadBalancerInfo; listeners: ListenerInfo[]; defaultSubnets: Record<string, string> };

/** `vpcId`: where a missing target group goes (the default VPC), undefined when there is none. */
export type TargetGroupObservation = { state: "missing"; vpcId: string | undefined } | { state: "present"; targetGroup: TargetGroupInfo };

/** Metadata only: the key's value is never read to observe it. */
export type ApiKeyObservation = { state: "missing" } | { state: "present"; type: string; keyId?: string };

export async function observeLoadBalancer(deps: ObserveDeps, names: ProjectNames, signal?: AbortSignal): Promise<LoadBalancerObservation> {
  return doing(`reading load balancer ${names.loadBalancer}`, async () => {
    const [loadBalancer, defaultSubnets] = await Promise.all([
      elbv2.findLoadBalancer(deps.clients, names.loadBalancer, signal),
      createEc2Instances(deps.clients).defaultSubnets(signal),
    ]);
    if (!loadBalancer) return { state: "missing", defaultSubnets };
    const listeners = await listListeners(deps.clients, loadBalancer.arn, signal);
    return { state: "present", loadBalancer, listeners, defaultSubnets };
  });
}

export async function observeTargetGroup(deps: ObserveDeps, names: ProjectNames, signal?: AbortSignal): Promise<TargetGroupObservation> {
  return doing(`reading target group ${names.targetGroup}`, async () => {
    const targetGroup = await elbv2.findTargetGroup(deps.clients, names.targetGroup, signal);
    if (targetGroup) return { state: "present", targetGroup };
    return { state: "missing", vpcId: await ec2.defaultVpcId(deps.clients, signal) };
  });
}

export async function observeApiKey(deps: ObserveDeps, names: ProjectNames, signal?: AbortSignal): Promise<ApiKeyObservation> {
  return doing(`reading SSM parameter ${names.apiKeyParameter}`, async () => {
    const parameter = await ssm.describeParameter(deps.clients, names.apiKeyParameter, signal);
    if (!parameter) return { state: "missing" };
    return { state: "present", type: parameter.type, ...(parameter.keyId ? { keyId: parameter.keyId } : {}) };
  });
}
