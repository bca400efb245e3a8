import type { InstanceSummary } from "../../aws/ec2-instances.js";
import type { ObjectReader } from "../../aws/s3-objects.js";
import { projectNames } from "../../infra/names.js";
import { recentFailures } from "../logs/failures.js";
import { recentFailovers, type FailoverSummary } from "../logs/failovers.js";
import { oneLine } from "../../core/printable.js";
import type { FailureRecord } from "../logs/record.js";
import type { ProjectLoadBalancer } from "../endpoint/load-balancer.js";
import { askWorkerHealth, healthOf, type AskHealth, type Health } from "./health.js";
import { loadBalancerStatus, type LoadBalancerStatus } from "./load-balancer-status.js";
import type { FleetDeps } from "./terminate.js";
import { isStopping } from "../../cluster/membership.js";
import { LIVE_STATES, TAG_LAUNCH, workerSelector } from "./tags.js";
import { TAG_CLUSTER } from "../../infra/names.js";
import { readWorkerTags, type WorkerTags } from "./worker-tags.js";
import { workerPlan, type WorkerPlan } from "./plan.js";
import type { DesiredObjects } from "../desired/store.js";
import type { Desired } from "../../cluster/desired.js";
import { describeRead, readDesired } from "../desired/store.js";
import { slotView } from "../desired/slots.js";
import { repairStatus, type RepairStatus } from "../desired/repair-status.js";
import { messageOf } from "../../core/errors.js";

/**
 * `synkti status`: the project's workers as AWS lists them right now (membership is tags; nothing
 * is cached). What each worker published on its own tags (state, model, a pending spot notice) is
 * the authority and is always shown, since a laptop outside the VPC can read tags but cannot reach
 * a worker's private address; each worker's live answer at its endpoint (health.ts) adds detail
 * where it can be had. Then the recent failures workers recorded in the bucket.
 */

export interface WorkerStatus extends Omit<WorkerTags, "planTag"> {
  instanceId: string;
  /** The EC2 state (running, pending, ...); the worker's own is `workerState`. */
  state: string;
  availabilityZone: string | null;
  instanceType: string | null;
  launchTime: string | null;
  uptimeSeconds: number | null;
  /** What EC2 lists; in the local cloud moto's invention, reachable from nowhere: see `endpoint`. */
  privateIp: string | null;
  market: "spot" | "on-demand";
  /** The worker's live answer (its model server's state), or why there is none (unreachable, unknown). */
  health: Health;
  /** Why the health is not the worker's own answer, and any pending notice; else null. */
  healthDetail: string | null;
  /** The SynktiLaunch tag: which launch made it (what an interrupted launch would undo). */
  launchId: string | null;
  /** Marked by `synkti down`: being stopped, never replaced. */
  stopping: boolean;
  /**
   * Its standing failover plan: its live answer where it could be asked, else its SynktiPlan tag;
   * null for a worker that published neither (an older synkti).
   */
  plan: WorkerPlan | null;
}

export interface StatusResult {
  project: string;
  workers: WorkerStatus[];
}

export interface ProjectStatus extends StatusResult {
  /** The last failures of the past 24 h, newest first (at most 5). */
  failures: FailureRecord[];
  /** Why `failures` could not be listed (no bucket, no permission); null when it could. */
  failuresUnavailable: string | null;
  /** The last failovers of the past 24 h (their timelines in the bucket), newest first (at most 5). */
  failovers: FailoverSummary[];
  /** Why `failovers` could not be listed; null when they could. */
  failoversUnavailable: string | null;
  /** The endpoint's URL and each registered target's state; null when unreadable (see below). */
  loadBalancer: LoadBalancerStatus | null;
  /** Why `loadBalancer` is null (none yet, no permission); null when it is there. */
  loadBalancerUnavailable: string | null;
  /** cluster/desired.json (`{"workers","setAt"}`): the operator's intent; null when absent or unreadable. */
  desired: Desired | null;
  /** Why `desired` is null: absent (an older cluster), unreadable, no bucket; null when it is there. */
  desiredUnavailable: string | null;
  /** Slots below the desired size that no live worker holds (the workers' repair fills them); [] without a desired size. */
  emptySlots: number[];
  /** Whether the workers repair silent deaths now, and when paused, the last failure and the fix. */
  repair: RepairStatus;
}

export async function fleetStatus(deps: FleetDeps & { askHealth?: AskHealth }, project: string, signal?: AbortSignal, listed?: InstanceSummary[]): Promise<StatusResult> {
  const instances = listed ?? (await deps.ec2.describe({ tags: workerSelector(project), states: LIVE_STATES }, signal));
  const workers = instances.map((i) => workerStatus(i, deps.clock.now()));
  const health = await healthOf(workers, deps.askHealth ?? askWorkerHealth, signal);
  const now = deps.clock.now();
  for (const w of workers) {
    const answer = health.get(w.instanceId);
    if (answer) [w.health, w.healthDetail] = [answer.health, answer.detail];
    // Its live plan, where it could be asked, outranks the SynktiPlan tag workerStatus read.
    if (answer?.plan) w.plan = workerPlan(answer.plan, null, { project, instanceId: w.instanceId });
    w.healthDetail = withTags(w, now);
  }
  return { project, workers: workers.sort(byZoneThenLaunch) };
}

/**
 * `synkti status`: the workers and, at the same time, the recent failures from the bucket and the
 * load balancer's view of its targets. `urlOverride`: a valid SYNKTI_ENDPOINT_URL, shown as the URL.
 */
export async function projectStatus(
  deps: FleetDeps & { objects: ObjectReader; lb: ProjectLoadBalancer; conditional: DesiredObjects; askHealth?: AskHealth },
  project: string,
  options: { urlOverride?: string; region?: string } = {},
  signal?: AbortSignal,
): Promise<ProjectStatus> {
  const names = projectNames(project);
  const listing = deps.ec2.describe({ tags: workerSelector(project), states: LIVE_STATES }, signal);
  const reading = desiredStatus(deps, names, signal);
  // Repair needs only the desired size and the listing (for the model its fix names): it runs
  // alongside the health asks and the other reads, not after them.
  const repairing = Promise.all([reading, listing]).then(([intent, listed]) => {
    const model = listed.map((i) => readWorkerTags(i.tags).model).find((m) => m !== null) ?? null;
    return repairStatus(deps, names, intent.desired, { model, ...(options.region ? { region: options.region } : {}) }, signal);
  });
  const [fleet, failures, failovers, lb, intent, repair] = await Promise.all([
    listing.then((listed) => fleetStatus(deps, project, signal, listed)),
    recentFailures(deps, names, signal),
    recentFailovers(deps, names, signal),
    loadBalancerStatus(deps.lb, names, options.urlOverride, signal),
    reading,
    repairing,
  ]);
  return {
    ...fleet,
    failures: failures.failures,
    failuresUnavailable: failures.unavailable,
    failovers: failovers.failovers,
    failoversUnavailable: failovers.unavailable,
    loadBalancer: lb.loadBalancer,
    loadBalancerUnavailable: lb.unavailable,
    desired: intent.desired,
    desiredUnavailable: intent.unavailable,
    emptySlots: intent.desired ? slotView(await listing, intent.desired.workers, deps.clock.now()).fill.map((f) => f.slot) : [],
    repair,
  };
}

/** The desired size, or why there is none to show: status reports, it never fails over a missing intent. */
async function desiredStatus(deps: { conditional: DesiredObjects }, names: ReturnType<typeof projectNames>, signal?: AbortSignal): Promise<{ desired: Desired | null; unavailable: string | null }> {
  try {
    const read = await readDesired(deps, names, signal);
    if (read.status === "set") return { desired: read.desired, unavailable: null };
    const why = read.status === "absent" ? "no cluster/desired.json (launched without --workers, or by an older synkti): the workers do not repair silent deaths" : `cluster/desired.json is ${describeRead(read)}`;
    return { desired: null, unavailable: why };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { desired: null, unavailable: `could not read s3://${names.bucket}/${names.desiredKey}: ${messageOf(error)}` };
  }
}

export function workerStatus(i: InstanceSummary, now: number): WorkerStatus {
  const launched = i.launchTime?.getTime();
  const { planTag, ...tags } = readWorkerTags(i.tags);
  return {
    instanceId: i.instanceId,
    state: i.state,
    ...tags,
    availabilityZone: i.availabilityZone ?? null,
    instanceType: i.instanceType ?? null,
    launchTime: i.launchTime?.toISOString() ?? null,
    uptimeSeconds: launched === undefined ? null : Math.max(0, Math.floor((now - launched) / 1000)),
    privateIp: i.privateIp ?? null,
    market: i.market,
    health: "unknown",
    healthDetail: null,
    launchId: i.tags[TAG_LAUNCH] ? oneLine(i.tags[TAG_LAUNCH], 64) : null,
    stopping: isStopping(i.tags),
    plan: workerPlan(undefined, planTag, { project: i.tags[TAG_CLUSTER] ?? "<project>", instanceId: i.instanceId }),
  };
}

/**
 * The live answer is detail; the tags are the authority. So a worker that could not be asked says
 * what it last published of itself, and a pending notice is never hidden behind "healthy".
 */
function withTags(w: WorkerStatus, now: number): string | null {
  const parts: string[] = [];
  if (w.notice !== null) parts.push(noticeDetail(w.notice, now));
  // The detail may quote the worker's own answer (an instance id it claims): cleaned like its tags.
  if (w.healthDetail) parts.push(oneLine(w.healthDetail, 300));
  if (w.health === "unreachable" && w.workerState) parts.push(`its own tag says ${w.workerState}`);
  return parts.length > 0 ? parts.join("; ") : null;
}

/**
 * SynktiNotice holds a spot notice's termination time (ahead of now), or, for a rebalance
 * recommendation, which names no time, the moment AWS issued it (behind now): only a time still to
 * come is a reclaim time. A past one is a risk already raised (or a reclaim already due), never a
 * "reclaim at" in the past.
 */
function noticeDetail(notice: string, now: number): string {
  if (notice === "unknown") return "spot notice pending (time unreadable)";
  return Date.parse(notice) > now ? `spot notice: reclaim at ${notice}` : `interruption risk since ${notice} (a rebalance recommendation, or a reclaim already due)`;
}

function byZoneThenLaunch(a: WorkerStatus, b: WorkerStatus): number {
  return (a.availabilityZone ?? "").localeCompare(b.availabilityZone ?? "") || (a.launchTime ?? "").localeCompare(b.launchTime ?? "") || a.instanceId.localeCompare(b.instanceId);
}
