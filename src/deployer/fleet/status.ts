import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { askWorkerHealth, healthOf, type AskHealth, type Health } from "./health.js";
import type { FleetDeps } from "./terminate.js";
import { isStopping, LIVE_STATES, TAG_ENDPOINT, TAG_LAUNCH, workerSelector } from "./tags.js";

/**
 * `synkti status`: the project's workers as AWS lists them right now (membership is tags; nothing
 * is cached), each with the health it reports itself at its published endpoint (health.ts).
 */

export interface WorkerStatus {
  instanceId: string;
  state: string;
  availabilityZone: string | null;
  instanceType: string | null;
  launchTime: string | null;
  uptimeSeconds: number | null;
  privateIp: string | null;
  market: "spot" | "on-demand";
  health: Health;
  /** Why the health is not the worker's own answer (unreachable, booting), else null. */
  healthDetail: string | null;
  /** The SynktiLaunch tag: which launch made it (what an interrupted launch would undo). */
  launchId: string | null;
  /** Marked by `synkti down`: being stopped, never replaced. */
  stopping: boolean;
  /** `<ip>:<port>` the worker published, null until it does. */
  endpoint: string | null;
}

export interface StatusResult {
  project: string;
  workers: WorkerStatus[];
}

export async function fleetStatus(deps: FleetDeps & { askHealth?: AskHealth }, project: string, signal?: AbortSignal): Promise<StatusResult> {
  const instances = await deps.ec2.describe({ tags: workerSelector(project), states: LIVE_STATES }, signal);
  const workers = instances.map((i) => workerStatus(i, deps.clock.now()));
  const health = await healthOf(workers, deps.askHealth ?? askWorkerHealth, signal);
  for (const w of workers) {
    const answer = health.get(w.instanceId);
    if (answer) [w.health, w.healthDetail] = [answer.health, answer.detail];
  }
  return { project, workers: workers.sort(byZoneThenLaunch) };
}

export function workerStatus(i: InstanceSummary, now: number): WorkerStatus {
  const launched = i.launchTime?.getTime();
  return {
    instanceId: i.instanceId,
    state: i.state,
    availabilityZone: i.availabilityZone ?? null,
    instanceType: i.instanceType ?? null,
    launchTime: i.launchTime?.toISOString() ?? null,
    uptimeSeconds: launched === undefined ? null : Math.max(0, Math.floor((now - launched) / 1000)),
    privateIp: i.privateIp ?? null,
    market: i.market,
    health: "unknown",
    healthDetail: null,
    launchId: i.tags[TAG_LAUNCH] ?? null,
    stopping: isStopping(i.tags),
    endpoint: i.tags[TAG_ENDPOINT] ?? null,
  };
}

function byZoneThenLaunch(a: WorkerStatus, b: WorkerStatus): number {
  return (a.availabilityZone ?? "").localeCompare(b.availabilityZone ?? "") || (a.launchTime ?? "").localeCompare(b.launchTime ?? "") || a.instanceId.localeCompare(b.instanceId);
}
