/**
 * The narrow IAM calls for the worker role, its inline policy and its instance profile, in plain
 * shapes. Policy documents come back as text exactly as IAM stores them (URL-encoded JSON); callers
 * compare them by meaning (src/infra/policy-compare.ts). Absent things answer `undefined`.
 */
import type { AwsClients } from "./clients.js";
import { orAbsent } from "./absent.js";
import { fromPairs, opts, toPairs } from "./shapes.js";

export interface RoleInfo {
  name: string;
  arn: string;
  /** As IAM returns it: URL-encoded JSON. */
  trustPolicy: string;
  tags: Record<string, string>;
}

export interface InstanceProfileInfo {
  name: string;
  arn: string;
  roles: string[];
  tags: Record<string, string>;
}

const sdk = () => import("@aws-sdk/client-iam");
const NO_SUCH_ENTITY = ["NoSuchEntity", "NoSuchEntityException"];

export async function getRole(clients: AwsClients, name: string, signal?: AbortSignal): Promise<RoleInfo | undefined> {
  const [{ GetRoleCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  return orAbsent(NO_SUCH_ENTITY, async () => {
    const role = (await iam.send(new GetRoleCommand({ RoleName: name }), opts(signal))).Role;
    return { name, arn: role?.Arn ?? "", trustPolicy: role?.AssumeRolePolicyDocument ?? "", tags: fromPairs(role?.Tags) };
  });
}

export async function createRole(
  clients: AwsClients,
  role: { name: string; trustPolicy: unknown; tags: Record<string, string>; description: string },
): Promise<void> {
  const [{ CreateRoleCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(
    new CreateRoleCommand({
      RoleName: role.name,
      AssumeRolePolicyDocument: JSON.stringify(role.trustPolicy),
      Description: role.description,
      Tags: toPairs(role.tags),
    }),
  );
}

export async function updateTrustPolicy(clients: AwsClients, roleName: string, trustPolicy: unknown): Promise<void> {
  const [{ UpdateAssumeRolePolicyCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(trustPolicy) }));
}

/** Adds or overwrites these tags; other tags stay. */
export async function tagRole(clients: AwsClients, roleName: string, tags: Record<string, string>): Promise<void> {
  const [{ TagRoleCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new TagRoleCommand({ RoleName: roleName, Tags: toPairs(tags) }));
}

/** An inline policy's document as IAM stores it (URL-encoded JSON); undefined when absent. */
export async function getRolePolicy(clients: AwsClients, roleName: string, policyName: string, signal?: AbortSignal) {
  const [{ GetRolePolicyCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  return orAbsent(NO_SUCH_ENTITY, async () => {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }), opts(signal));
    return out.PolicyDocument ?? "";
  });
}

export async function putRolePolicy(clients: AwsClients, roleName: string, policyName: string, document: unknown): Promise<void> {
  const [{ PutRolePolicyCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: JSON.stringify(document) }));
}

/**
 * Deletes a role the way IAM requires: out of every instance profile, without inline policies,
 * without attached managed policies (e.g. an AmazonSSMManagedInstanceCore someone attached by hand).
 */
export async function deleteRoleCompletely(clients: AwsClients, roleName: string): Promise<void> {
  const client = await import("@aws-sdk/client-iam");
  const iam = await clients.iam();
  const profiles = await iam.send(new client.ListInstanceProfilesForRoleCommand({ RoleName: roleName }));
  for (const profile of profiles.InstanceProfiles ?? []) {
    await removeRoleFromInstanceProfile(clients, profile.InstanceProfileName ?? "", roleName);
  }
  const inline = await iam.send(new client.ListRolePoliciesCommand({ RoleName: roleName }));
  for (const policyName of inline.PolicyNames ?? []) {
    await iam.send(new client.DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
  }
  const attached = await iam.send(new client.ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  for (const policy of attached.AttachedPolicies ?? []) {
    await iam.send(new client.DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.PolicyArn }));
  }
  await iam.send(new client.DeleteRoleCommand({ RoleName: roleName }));
}

export async function getInstanceProfile(clients: AwsClients, name: string, signal?: AbortSignal) {
  const [{ GetInstanceProfileCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  return orAbsent(NO_SUCH_ENTITY, async (): Promise<InstanceProfileInfo> => {
    const profile = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }), opts(signal))).InstanceProfile;
    return {
      name,
      arn: profile?.Arn ?? "",
      roles: (profile?.Roles ?? []).map((role) => role.RoleName ?? ""),
      tags: fromPairs(profile?.Tags),
    };
  });
}

export async function createInstanceProfile(clients: AwsClients, name: string, tags: Record<string, string>): Promise<void> {
  const [{ CreateInstanceProfileCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name, Tags: toPairs(tags) }));
}

export async function addRoleToInstanceProfile(clients: AwsClients, profileName: string, roleName: string): Promise<void> {
  const [{ AddRoleToInstanceProfileCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName }));
}

export async function removeRoleFromInstanceProfile(clients: AwsClients, profileName: string, roleName: string): Promise<void> {
  const [{ RemoveRoleFromInstanceProfileCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName }));
}

export async function tagInstanceProfile(clients: AwsClients, name: string, tags: Record<string, string>): Promise<void> {
  const [{ TagInstanceProfileCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new TagInstanceProfileCommand({ InstanceProfileName: name, Tags: toPairs(tags) }));
}

/** Deletes a profile after taking its roles out (IAM refuses otherwise). */
export async function deleteInstanceProfileCompletely(clients: AwsClients, profile: InstanceProfileInfo): Promise<void> {
  for (const role of profile.roles) await removeRoleFromInstanceProfile(clients, profile.name, role);
  const [{ DeleteInstanceProfileCommand }, iam] = await Promise.all([sdk(), clients.iam()]);
  await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: profile.name }));
}
