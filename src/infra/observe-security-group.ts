import * as ec2 from "../aws/ec2.js";
import type { IngressRule } from "../aws/ec2.js";
import { doing, type ObserveDeps } from "./deps.js";
import type { ProjectNames } from "./names.js";

/**
 * A security group of the project in the region's default VPC. `no-default-vpc`: the group cannot
 * exist there, and `infra up` must refuse before touching anything else. The workers' group also
 * carries the load balancer group's id (when it exists): its rules admit that group.
 */
export type SecurityGroupObservation =
  | { state: "no-default-vpc" }
  | { state: "missing"; vpcId: string; loadBalancerGroupId?: string }
  | { state: "present"; vpcId: string; groupId: string; ingress: IngressRule[]; tags: Record<string, string>; loadBalancerGroupId?: string };

/** The workers' group, with the load balancer group's id its rules refer to. */
export async function observeSecurityGroup(
  deps: ObserveDeps,
  names: ProjectNames,
  signal?: AbortSignal,
): Promise<SecurityGroupObservation> {
  const [workers, balancer] = await Promise.all([
    observeGroupNamed(deps, names.securityGroup, signal),
    observeGroupNamed(deps, names.loadBalancerSecurityGroup, signal),
  ]);
  if (workers.state === "no-default-vpc" || balancer.state !== "present") return workers;
  return { ...workers, loadBalancerGroupId: balancer.groupId };
}

/** The load balancer's own group (its CIDR rules are the record of who may call the endpoint). */
export async function observeLoadBalancerSecurityGroup(
  deps: ObserveDeps,
  names: ProjectNames,
  signal?: AbortSignal,
): Promise<SecurityGroupObservation> {
  return observeGroupNamed(deps, names.loadBalancerSecurityGroup, signal);
}

async function observeGroupNamed(deps: ObserveDeps, name: string, signal?: AbortSignal): Promise<SecurityGroupObservation> {
  return doing(`reading security group ${name}`, async () => {
    const vpcId = await ec2.defaultVpcId(deps.clients, signal);
    if (!vpcId) return { state: "no-default-vpc" };
    const group = await ec2.findSecurityGroup(deps.clients, vpcId, name, signal);
    if (!group) return { state: "missing", vpcId };
    return { state: "present", vpcId, groupId: group.groupId, ingress: group.ingress, tags: group.tags };
  });
}
