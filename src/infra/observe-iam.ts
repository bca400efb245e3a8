import * as iam from "../aws/iam.js";
import { doing, type ObserveDeps } from "./deps.js";
import type { ProjectNames } from "./names.js";
import { parsePolicy } from "./policy-compare.js";

/** Each IAM resource is observed on its own, so preflight can require them one by one. */
export type RoleObservation =
  | { state: "missing" }
  | { state: "present"; arn: string; trustPolicy: unknown; tags: Record<string, string> };

export type RolePolicyObservation = { state: "missing" } | { state: "present"; document: unknown };

export type InstanceProfileObservation =
  | { state: "missing" }
  | { state: "present"; arn: string; roles: string[]; tags: Record<string, string> };

export async function observeRole(deps: ObserveDeps, names: ProjectNames, signal?: AbortSignal): Promise<RoleObservation> {
  return doing(`reading IAM role ${names.role}`, async () => {
    const role = await iam.getRole(deps.clients, names.role, signal);
    if (!role) return { state: "missing" };
    return { state: "present", arn: role.arn, trustPolicy: parsePolicy(role.trustPolicy), tags: role.tags };
  });
}

/** The inline worker policy; missing also when the role itself is missing (IAM says NoSuchEntity). */
export async function observeRolePolicy(deps: ObserveDeps, names: ProjectNames, signal?: AbortSignal): Promise<RolePolicyObservation> {
  return doing(`reading inline policy ${names.workerPolicy} of IAM role ${names.role}`, async () => {
    const document = await iam.getRolePolicy(deps.clients, names.role, names.workerPolicy, signal);
    return document === undefined ? { state: "missing" } : { state: "present", document: parsePolicy(document) };
  });
}

export async function observeInstanceProfile(
  deps: ObserveDeps,
  names: ProjectNames,
  signal?: AbortSignal,
): Promise<InstanceProfileObservation> {
  return doing(`reading instance profile ${names.instanceProfile}`, async () => {
    const profile = await iam.getInstanceProfile(deps.clients, names.instanceProfile, signal);
    if (!profile) return { state: "missing" };
    return { state: "present", arn: profile.arn, roles: profile.roles, tags: profile.tags };
  });
}
