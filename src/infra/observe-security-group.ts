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
  return (await observeSecurityGroups(deps, names, signal)).workers;
}

/** The load balancer's own group (its CIDR rules are the record of who may call the endpoint). */
export async function observeLoadBalancerSecurityGroup(
  deps: ObserveDeps,
  names: ProjectNames,
  signal?: AbortSignal,
): Promise<SecurityGroupObservation> {
  return doing(`reading security group ${names.loadBalancerSecurityGroup}`, async () =>
    groupIn(deps, await ec2.defaultVpcId(deps.clients, signal), names.loadBalancerSecurityGroup, signal),
  );
}

/** Both groups, from one read of the default VPC and one of each group (`infra up` needs both). */
export async function observeSecurityGroups(
  deps: ObserveDeps,
  names: ProjectNames,
  signal?: AbortSignal,
): Promise<{ workers: SecurityGroupObservation; loadBalancer: SecurityGroupObservation }> {
  return doing(`reading security groups ${names.securityGroup} and ${names.loadBalancerSecurityGroup}`, async () => {
    const vpcId = await ec2.defaultVpcId(deps.clients, signal);
    const [workers, loadBalancer] = await Promise.all([
      groupIn(deps, vpcId, names.securityGroup, signal),
      groupIn(deps, vpcId, names.loadBalancerSecurityGroup, signal),
    ]);
    if (workers.state === "no-default-vpc" || loadBalancer.state !== "present") return { workers, loadBalancer };
    return { workers: { ...workers, loadBalancerGroupId: loadBalancer.groupId }, loadBalancer };
  });
}

async function groupIn(deps: ObserveDeps, vpcId: string | undefined, name: string, signal?: AbortSignal): Promise<SecurityGroupObservation> {
  if (!vpcId) return { state: "no-default-vpc" };
  const group = await ec2.findSecurityGroup(deps.clients, vpcId, name, signal);
  if (!group) return { state: "missing", vpcId };
  return { state: "present", vpcId, groupId: group.groupId, ingress: group.ingress, tags: group.tags };
}
