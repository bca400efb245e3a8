import * as ec2 from "../aws/ec2.js";
import type { IngressRule } from "../aws/ec2.js";
import { doing, type ObserveDeps } from "./deps.js";
import type { ProjectNames } from "./names.js";

/**
 * The workers' security group lives in the region's default VPC. `no-default-vpc`: the group cannot
 * exist there, and `infra up` must refuse before touching anything else.
 */
export type SecurityGroupObservation =
  | { state: "no-default-vpc" }
  | { state: "missing"; vpcId: string }
  | { state: "present"; vpcId: string; groupId: string; ingress: IngressRule[]; tags: Record<string, string> };

export async function observeSecurityGroup(
  deps: ObserveDeps,
  names: ProjectNames,
  signal?: AbortSignal,
): Promise<SecurityGroupObservation> {
  return doing(`reading security group ${names.securityGroup}`, async () => {
    const vpcId = await ec2.defaultVpcId(deps.clients, signal);
    if (!vpcId) return { state: "no-default-vpc" };
    const group = await ec2.findSecurityGroup(deps.clients, vpcId, names.securityGroup, signal);
    if (!group) return { state: "missing", vpcId };
    return { state: "present", vpcId, groupId: group.groupId, ingress: group.ingress, tags: group.tags };
  });
}
