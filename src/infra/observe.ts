import type { ObserveDeps } from "./deps.js";
import type { ProjectNames } from "./names.js";
import { observeBucket, type BucketObservation } from "./observe-bucket.js";
import {
  observeInstanceProfile,
  observeRole,
  observeRolePolicy,
  type InstanceProfileObservation,
  type RoleObservation,
  type RolePolicyObservation,
} from "./observe-iam.js";
import {
  observeApiKey,
  observeLoadBalancer,
  observeTargetGroup,
  type ApiKeyObservation,
  type LoadBalancerObservation,
  type TargetGroupObservation,
} from "./observe-load-balancer.js";
import { observeSecurityGroups, type SecurityGroupObservation } from "./observe-security-group.js";

export interface InfraObservation {
  bucket: BucketObservation;
  role: RoleObservation;
  rolePolicy: RolePolicyObservation;
  instanceProfile: InstanceProfileObservation;
  securityGroup: SecurityGroupObservation;
  loadBalancerSecurityGroup: SecurityGroupObservation;
  targetGroup: TargetGroupObservation;
  loadBalancer: LoadBalancerObservation;
  apiKey: ApiKeyObservation;
}

/** All observations at once: they are independent reads. */
export async function observeInfra(deps: ObserveDeps, names: ProjectNames, signal?: AbortSignal): Promise<InfraObservation> {
  const [bucket, role, rolePolicy, instanceProfile, groups, targetGroup, loadBalancer, apiKey] = await Promise.all([
    observeBucket(deps, names, signal),
    observeRole(deps, names, signal),
    observeRolePolicy(deps, names, signal),
    observeInstanceProfile(deps, names, signal),
    observeSecurityGroups(deps, names, signal),
    observeTargetGroup(deps, names, signal),
    observeLoadBalancer(deps, names, signal),
    observeApiKey(deps, names, signal),
  ]);
  return { bucket, role, rolePolicy, instanceProfile, securityGroup: groups.workers, loadBalancerSecurityGroup: groups.loadBalancer, targetGroup, loadBalancer, apiKey };
}
