import { accountContext } from "./account.js";
import { applyPlan, assertApplicable } from "./apply.js";
import type { InfraDeps, ResourceKind } from "./deps.js";
import type { ComputeOptions } from "./compute-policy.js";
import { desiredInfra, type LoadBalancerOptions } from "./desired.js";
import type { ProjectNames } from "./names.js";
import { observeInfra } from "./observe.js";
import { planInfra } from "./plan.js";
import { planChanges, planSteps, type InfraPlan } from "./plan-types.js";

export type UpAction = "created" | "updated" | "unchanged";
export type PlannedAction = "create" | "update" | "unchanged";

export interface UpResource<A extends string> {
  kind: ResourceKind;
  name: string;
  action: A;
  /** Why: one reason per change ("public access block: BlockPublicAcls off"). */
  changes: string[];
}

export type UpResult =
  | { dryRun: false; changed: boolean; resources: Array<UpResource<UpAction>> }
  | { dryRun: true; changed: boolean; resources: Array<UpResource<PlannedAction>> };

const PAST: Record<PlannedAction, UpAction> = { create: "created", update: "updated", unchanged: "unchanged" };

/**
 * `synkti infra up`: observe, plan, then (unless dry-run) apply. Idempotent: a second run observes
 * what the first made and plans nothing. Refuses before any change when a step is blocked.
 */
export async function infraUp(
  deps: InfraDeps,
  names: ProjectNames,
  options: { dryRun?: boolean; loadBalancer?: LoadBalancerOptions; compute?: ComputeOptions } = {},
): Promise<UpResult> {
  // The account first: it also settles the region, which every observation needs.
  const account = await accountContext(deps);
  const seen = await observeInfra(deps, names);
  const want = desiredInfra(names, account, options.loadBalancer, options.compute);
  const plan = planInfra(want, seen);
  assertApplicable(plan);
  const planned = describePlan(plan);
  if (options.dryRun) return { dryRun: true, changed: planChanges(plan), resources: planned };
  await applyPlan(deps, want, plan);
  return {
    dryRun: false,
    changed: planChanges(plan),
    resources: planned.map((r) => ({ ...r, action: PAST[r.action] })),
  };
}

export function describePlan(plan: InfraPlan): Array<UpResource<PlannedAction>> {
  return planSteps(plan).map((s) => ({
    kind: s.kind,
    name: s.name,
    // assertApplicable ran first, so no step is "blocked" here
    action: s.action === "blocked" ? "unchanged" : s.action,
    changes: s.changes.map((c) => c.reason),
  }));
}
