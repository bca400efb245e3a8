import type { DesiredInfra } from "./desired.js";
import type { InstanceProfileObservation, RoleObservation, RolePolicyObservation } from "./observe-iam.js";
import {
  describeTags,
  missingTags,
  step,
  type InstanceProfileChange,
  type InstanceProfileStep,
  type RoleChange,
  type RolePolicyStep,
  type RoleStep,
} from "./plan-types.js";
import { DEFAULT_COMPUTE, describeCompute, recordedCompute, resolveCompute, withCompute, type ComputePolicy } from "./compute-policy.js";
import type { PolicyDocument } from "./policies.js";
import { differingStatements, samePolicy } from "./policy-compare.js";

/** Pure planners for the worker role, its inline policy and its instance profile. */
export function planRole(want: DesiredInfra["role"], seen: RoleObservation): RoleStep {
  if (seen.state === "missing") return step<"role", RoleChange>("role", want.name, false, [{ op: "create-role", reason: "does not exist" }]);
  const changes: RoleChange[] = [];
  if (!samePolicy(seen.trustPolicy, want.trustPolicy)) {
    changes.push({ op: "update-trust-policy", reason: "trust policy differs (only ec2.amazonaws.com may assume the role)" });
  }
  const tags = missingTags(want.tags, seen.tags);
  if (Object.keys(tags).length > 0) changes.push({ op: "tag-role", tags, reason: `tag ${describeTags(tags)} missing` });
  return step("role", want.name, true, changes);
}

/** The inline policy is synkti's whole document: any difference is drift, repaired by rewriting it. */
export function planRolePolicy(want: DesiredInfra["rolePolicy"], seen: RolePolicyObservation): RolePolicyStep {
  const name = `${want.roleName}/${want.name}`;
  const { document, recorded, compute } = wantedRolePolicy(want, seen);
  if (seen.state === "missing") return step("role-policy", name, false, [{ op: "put-role-policy", document, reason: "does not exist" }]);
  if (samePolicy(seen.document, document)) return step("role-policy", name, true, []);
  // A change of the allowed instances is said as such; anything else is drift.
  const reason = samePolicy(seen.document, withCompute(want.document, recorded))
    ? `allowed instances: ${describeCompute(compute)} (was ${describeCompute(recorded)})`
    : `worker policy differs (${differingStatements(document, seen.document).join(", ")})`;
  return step("role-policy", name, true, [{ op: "put-role-policy", document, reason }]);
}

/** The policy to have: the template with the instance types the policy records, or this run's flags. */
export function wantedRolePolicy(want: DesiredInfra["rolePolicy"], seen: RolePolicyObservation): { document: PolicyDocument; recorded: ComputePolicy; compute: ComputePolicy } {
  const recorded = seen.state === "present" ? recordedCompute(seen.document) : DEFAULT_COMPUTE;
  const compute = resolveCompute(recorded, want.compute);
  return { document: withCompute(want.document, compute), recorded, compute };
}

/** An instance profile holds at most one role: a wrong one is taken out before ours goes in. */
export function planInstanceProfile(want: DesiredInfra["instanceProfile"], seen: InstanceProfileObservation): InstanceProfileStep {
  if (seen.state === "missing") {
    return step<"instance-profile", InstanceProfileChange>("instance-profile", want.name, false, [
      { op: "create-instance-profile", reason: "does not exist" },
      { op: "add-role", reason: `holds role ${want.roleName}` },
    ]);
  }
  const changes: InstanceProfileChange[] = seen.roles
    .filter((role) => role !== want.roleName)
    .map((roleName) => ({ op: "remove-role", roleName, reason: `holds role ${roleName} instead of ${want.roleName}` }));
  if (!seen.roles.includes(want.roleName)) changes.push({ op: "add-role", reason: `role ${want.roleName} is not in the profile` });
  const tags = missingTags(want.tags, seen.tags);
  if (Object.keys(tags).length > 0) changes.push({ op: "tag-instance-profile", tags, reason: `tag ${describeTags(tags)} missing` });
  return step("instance-profile", want.name, true, changes);
}
