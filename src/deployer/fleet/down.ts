import { LIVE_STATES, projectSelector } from "./tags.js";
import { terminateAndWait, type FleetDeps } from "./terminate.js";

/**
 * `synkti down`: ends every instance of the project (any role, any launch), and only instances:
 * the bucket, binary, weights, role, profile and security group are permanent and untouched.
 * Each instance gets the stop marker (SynktiStopping=true) before TerminateInstances, so workers
 * do not replace what is being stopped; the loop also ends anything that appears meanwhile.
 */
export interface DownOptions {
  project: string;
  /** For the printed fix. */
  region?: string;
  /** List what would be terminated; change nothing. */
  dryRun?: boolean;
  deadlineMs?: number;
  intervalMs?: number;
}

export interface DownResult {
  project: string;
  dryRun: boolean;
  /** Live (not terminated) instances of the project when down started. */
  found: Array<{ instanceId: string; state: string; availabilityZone: string | null }>;
  terminated: string[];
  /** Not terminated by the deadline: down failed for these. */
  remaining: Array<{ instanceId: string; state: string }>;
  error: string | null;
  fix: string | null;
}

export async function downProject(deps: FleetDeps, options: DownOptions, signal?: AbortSignal): Promise<DownResult> {
  const { project } = options;
  const live = await deps.ec2.describe({ tags: projectSelector(project), states: LIVE_STATES }, signal);
  const found = live.map((i) => ({ instanceId: i.instanceId, state: i.state, availabilityZone: i.availabilityZone ?? null }));
  const base = { project, dryRun: options.dryRun === true, found };
  if (options.dryRun || live.length === 0) return { ...base, terminated: [], remaining: [], error: null, fix: null };

  deps.log.info({ instances: found.map((f) => f.instanceId) }, `stopping project ${project}: marking and terminating ${found.length} instance(s)`);
  const report = await terminateAndWait(deps, {
    selector: projectSelector(project),
    markStopping: true,
    deadlineMs: options.deadlineMs ?? 10 * 60_000,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(signal ? { signal } : {}),
  });
  const region = options.region ? ` --region ${options.region}` : "";
  const failed = !report.complete;
  return {
    ...base,
    terminated: report.terminated,
    remaining: report.remaining.map((r) => ({ instanceId: r.instanceId, state: r.state })),
    error: failed ? (report.lastError ?? "AWS did not report every instance terminated before the deadline") : null,
    // Re-running is safe (terminate is idempotent) and finds whatever is left; leaks says why.
    fix: failed ? `synkti down --project-name ${project}${region}` : null,
  };
}
