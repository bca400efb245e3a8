import type { DesiredInfra } from "./desired.js";
import type { InfraObservation } from "./observe.js";
import { planBucket } from "./plan-bucket.js";
import { planInstanceProfile, planRole, planRolePolicy } from "./plan-iam.js";
import { planApiKey, planListeners, planLoadBalancer, planTargetGroup, wantedListeners } from "./plan-load-balancer.js";
import { planLoadBalancerSecurityGroup } from "./plan-load-balancer-security-group.js";
import { planSecurityGroup } from "./plan-security-group.js";
import type { InfraPlan } from "./plan-types.js";

/**
 * The planner: desired vs observed -> what `infra up` does. Pure (no I/O, no clock), so every
 * drift case is a table test, and `--dry-run` prints exactly what would be applied.
 */
export function planInfra(want: DesiredInfra, seen: InfraObservation): InfraPlan {
  const listenerPorts = wantedListeners(want.listeners, seen.loadBalancer).map((l) => l.port);
  const lbGroup = seen.loadBalancerSecurityGroup;
  const targetGroup = planTargetGroup(want.targetGroup, seen.targetGroup, want.loadBalancer.project);
  return {
    bucket: planBucket(want.bucket, seen.bucket),
    role: planRole(want.role, seen.role),
    rolePolicy: planRolePolicy(want.rolePolicy, seen.rolePolicy),
    instanceProfile: planInstanceProfile(want.instanceProfile, seen.instanceProfile),
    loadBalancerSecurityGroup: planLoadBalancerSecurityGroup(want.loadBalancerSecurityGroup, lbGroup, listenerPorts),
    securityGroup: planSecurityGroup(want.securityGroup, seen.securityGroup),
    targetGroup,
    loadBalancer: planLoadBalancer(want.loadBalancer, seen.loadBalancer, lbGroup.state === "present" ? lbGroup.groupId : undefined),
    listeners: planListeners(want.listeners, seen.loadBalancer, targetGroup.arn),
    apiKey: planApiKey(want.apiKey, seen.apiKey, want.loadBalancer.project),
  };
}
