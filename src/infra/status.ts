import { accountContext } from "./account.js";
import type { InfraDeps, ResourceKind } from "./deps.js";
import { desiredInfra } from "./desired.js";
import type { ProjectNames } from "./names.js";
import { observeInfra } from "./observe.js";
import { planInfra } from "./plan.js";
import { planSteps, type InfraPlan } from "./plan-types.js";

export type ResourceState = "present" | "missing" | "drifted";

export interface ResourceStatus {
  kind: ResourceKind;
  name: string;
  state: ResourceState;
  detail: string;
}

export interface InfraStatus {
  /** True when every resource is present as desired (SAFE). */
  ok: boolean;
  resources: ResourceStatus[];
}

/**
 * Pure: the status of each resource is what the planner would do about it. create = missing,
 * update = drifted (the reasons are the detail), unchanged = present, blocked = missing (with why).
 */
export function statusOf(plan: InfraPlan): InfraStatus {
  const resources = planSteps(plan).map((s): ResourceStatus => {
    switch (s.action) {
      case "unchanged":
        return { kind: s.kind, name: s.name, state: "present", detail: "as desired" };
      case "update":
        return { kind: s.kind, name: s.name, state: "drifted", detail: s.changes.map((c) => c.reason).join("; ") };
      case "create":
        return { kind: s.kind, name: s.name, state: "missing", detail: "does not exist" };
      case "blocked":
        return { kind: s.kind, name: s.name, state: "missing", detail: `${s.blocker?.message}; fix: ${s.blocker?.remedy}` };
    }
  });
  return { ok: resources.every((r) => r.state === "present"), resources };
}

export async function infraStatus(deps: InfraDeps, names: ProjectNames): Promise<InfraStatus> {
  // The account first: it also settles the region, which every observation needs.
  const account = await accountContext(deps);
  const seen = await observeInfra(deps, names);
  return statusOf(planInfra(desiredInfra(names, account), seen));
}
