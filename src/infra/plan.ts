import type { DesiredInfra } from "./desired.js";
import type { InfraObservation } from "./observe.js";
import { planBucket } from "./plan-bucket.js";
import { planInstanceProfile, planRole, planRolePolicy } from "./plan-iam.js";
import { planSecurityGroup } from "./plan-security-group.js";
import type { InfraPlan } from "./plan-types.js";

/**
 * The planner: desired vs observed -> what `infra up` does. Pure (no I/O, no clock), so every
 * drift case is a table test, and `--dry-run` prints exactly what would be applied.
 */
export function planInfra(want: DesiredInfra, seen: InfraObservation): InfraPlan {
  return {
    bucket: planBucket(want.bucket, seen.bucket),
    role: planRole(want.role, seen.role),
    rolePolicy: planRolePolicy(want.rolePolicy, seen.rolePolicy),
    instanceProfile: planInstanceProfile(want.instanceProfile, seen.instanceProfile),
    securityGroup: planSecurityGroup(want.securityGroup, seen.securityGroup),
  };
}
