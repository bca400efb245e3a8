import type { PlanStatus } from "../../cluster/status-document.js";
import type { PlanProblem } from "../../infra/names.js";

/**
 * A worker's standing failover plan as `synkti status` shows it: the worker's own answer when it
 * could be asked (pool, when verified, the problem in its words), else what its SynktiPlan tag says
 * (a laptop outside the VPC can always read that), with the problem and fix spelt out here.
 */
export interface WorkerPlan extends PlanStatus {
  /** `live`: the worker's /status; `tag`: its SynktiPlan tag only. */
  source: "live" | "tag";
}

export function workerPlan(live: PlanStatus | undefined, tag: "ready" | PlanProblem | null, ids: { project: string; instanceId: string }): WorkerPlan | null {
  if (live) return { ...live, source: "live" };
  if (tag === null) return null;
  if (tag === "ready") return { ready: true, pool: null, verifiedAt: null, code: null, problem: null, fix: null, source: "tag" };
  const [problem, fix] = TAG_WORDS[tag](ids);
  return { ready: false, pool: null, verifiedAt: null, code: tag, problem, fix, source: "tag" };
}

/** A plan that needs the operator: not ready for a reason other than starting up or `synkti down`. */
export const planNeedsFix = (plan: WorkerPlan | null): plan is WorkerPlan => plan !== null && !plan.ready && plan.code !== "pending" && plan.code !== "stopping";

type Ids = { project: string; instanceId: string };
const TAG_WORDS: Record<PlanProblem, (ids: Ids) => [string, string | null]> = {
  pending: () => ["not verified yet (the worker is starting)", null],
  denied: ({ project }) => ["a DryRun of its replacement's launch was refused: the worker policy does not allow it", `synkti infra up --project-name ${project}`],
  "no-pool": ({ project }) => [
    "no pool other than its own to launch a replacement in (its type is offered in no other zone of the load balancer)",
    `synkti infra up --project-name ${project} --instance-types <its type>,<another GPU type>   # then launch with the same list`,
  ],
  "no-template": ({ project }) => ["its replacement's launch request cannot be made (the project's security group or instance profile is missing)", `synkti infra up --project-name ${project}`],
  stopping: () => ["the cluster is being stopped (synkti down)", null],
  unobservable: ({ project, instanceId }) => ["its last check of the plan could not reach AWS", `synkti logs ${instanceId} --project-name ${project}`],
};
