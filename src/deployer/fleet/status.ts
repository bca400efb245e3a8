import type { InstanceSummary } from "../../aws/ec2-instances.js";
import type { FleetDeps } from "./terminate.js";
import { isStopping, LIVE_STATES, TAG_ENDPOINT, TAG_LAUNCH, workerSelector } from "./tags.js";

/**
 * `synkti status`: the project's workers as AWS lists them right now (membership is tags; nothing
 * is cached). Health is "unknown" until workers publish their status endpoint (SynktiEndpoint tag)
 * and status asks each one; then it is the worker's own answer (DESIGN: ask the peer).
 */
export type Health = "unknown";

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

export async function fleetStatus(deps: FleetDeps, project: string, signal?: AbortSignal): Promise<StatusResult> {
  const instances = await deps.ec2.describe({ tags: workerSelector(project), states: LIVE_STATES }, signal);
  return { project, workers: instances.map((i) => workerStatus(i, deps.clock.now())).sort(byZoneThenLaunch) };
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
    launchId: i.tags[TAG_LAUNCH] ?? null,
    stopping: isStopping(i.tags),
    endpoint: i.tags[TAG_ENDPOINT] ?? null,
  };
}

function byZoneThenLaunch(a: WorkerStatus, b: WorkerStatus): number {
  return (a.availabilityZone ?? "").localeCompare(b.availabilityZone ?? "") || (a.launchTime ?? "").localeCompare(b.launchTime ?? "") || a.instanceId.localeCompare(b.instanceId);
}
