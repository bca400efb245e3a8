import { projectNames, type ProjectNames } from "../../infra/names.js";
import { isSynktiError, messageOf } from "../../core/errors.js";
import type { Desired } from "../../cluster/desired.js";
import { readDesired, writeDesired, type DesiredObjects } from "../desired/store.js";
import type { ProjectLoadBalancer } from "../endpoint/load-balancer.js";
import { drainTargets, type DrainReport } from "./drain-targets.js";
import { isStopping } from "../../cluster/membership.js";
import { LIVE_STATES, projectSelector, TAG_STOPPING } from "./tags.js";
import { terminateAndWait, type FleetDeps } from "./terminate.js";

/**
 * `synkti down`: ends every instance of the project (any role, any launch), and only instances:
 * the bucket, binary, weights, role, profile and security group are permanent and untouched.
 * Before it changes anything it sets the desired size to 0 (cluster/desired.json), so no worker repairs a
 * slot while down empties them all (a refusal there is reported, and down goes on). Each instance gets the stop marker (SynktiStopping=true) first, so workers neither replace what is
 * being stopped nor join the load balancer again; then every target leaves the target group and
 * down waits until their in-flight requests finished (drain-targets.ts); only then
 * TerminateInstances, whose loop also ends anything that appears meanwhile.
 */
export interface DownOptions {
  project: string;
  /** For the printed fix. */
  region?: string;
  /** List what would be terminated; change nothing. */
  dryRun?: boolean;
  deadlineMs?: number;
  intervalMs?: number;
  /** How often the deregistration wait looks (default 2 s, growing). */
  drainIntervalMs?: number;
}

export interface DownResult {
  project: string;
  dryRun: boolean;
  /** Deregistration from the load balancer before termination (what would be, in a dry run). */
  deregistration: DrainReport | null;
  /** cluster/desired.json as down left it (`{"workers":0,...}`); null in a dry run or when it could not be set. */
  desired: Desired | null;
  /** Why the desired size could not be set to 0 (no bucket, refused); null when it was, or in a dry run. */
  desiredProblem: string | null;
  /** Live (not terminated) instances of the project when down started. */
  found: Array<{ instanceId: string; state: string; availabilityZone: string | null }>;
  terminated: string[];
  /** Not terminated by the deadline: down failed for these. */
  remaining: Array<{ instanceId: string; state: string }>;
  error: string | null;
  fix: string | null;
}

export type DownDeps = FleetDeps & { lb: ProjectLoadBalancer; conditional: DesiredObjects };

export async function downProject(deps: DownDeps, options: DownOptions, signal?: AbortSignal): Promise<DownResult> {
  const { project } = options;
  const names = projectNames(project);
  // Desired 0 lands before anything is marked, drained or terminated. It runs alongside the first
  // listing (a read), so a silent AWS costs one deadline, not two (the README's bound).
  const setting = options.dryRun ? Promise.resolve({ desired: null, desiredProblem: null }) : desiredZero(deps, names, options.region, signal);
  setting.catch(() => {}); // awaited below; only an interruption rejects it
  const live = await deps.ec2.describe({ tags: projectSelector(project), states: LIVE_STATES }, signal);
  const intent = await setting;
  const found = live.map((i) => ({ instanceId: i.instanceId, state: i.state, availabilityZone: i.availabilityZone ?? null }));
  const base = { project, dryRun: options.dryRun === true, ...intent, found };
  if (live.length === 0) return { ...base, deregistration: null, terminated: [], remaining: [], error: null, fix: null };
  const ids = found.map((f) => f.instanceId);
  const drain = (dryRun: boolean) =>
    drainTargets(deps, names, ids, { dryRun, ...(options.drainIntervalMs !== undefined ? { intervalMs: options.drainIntervalMs } : {}), ...(signal ? { signal } : {}) });
  if (options.dryRun) return { ...base, deregistration: await drain(true), terminated: [], remaining: [], error: null, fix: null };

  deps.log.info({ instances: ids }, `stopping project ${project}: marking, deregistering and terminating ${found.length} instance(s)`);
  await markStopping(deps, live.filter((i) => !isStopping(i.tags)).map((i) => i.instanceId), signal);
  const deregistration = await drain(false);
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
    deregistration,
    terminated: report.terminated,
    remaining: report.remaining.map((r) => ({ instanceId: r.instanceId, state: r.state })),
    error: failed ? (report.lastError ?? "AWS did not report every instance terminated before the deadline") : null,
    // Re-running is safe (terminate is idempotent) and finds whatever is left; leaks says why.
    fix: failed ? `synkti down --project-name ${project}${region}` : null,
  };
}

/**
 * Desired 0 first: the workers' repair then claims nothing while down terminates them. Whatever
 * another deployer set meanwhile is overwritten (down means 0). Not a precondition: a project
 * without its bucket, or a policy without s3:PutObject on cluster/, still gets its instances ended
 * (the stop marker and the termination loop cover a replacement that slips through).
 */
async function desiredZero(deps: DownDeps, names: ProjectNames, region: string | undefined, signal?: AbortSignal): Promise<{ desired: Desired | null; desiredProblem: string | null }> {
  const rerun = `synkti down --project-name ${names.project}${region ? ` --region ${region}` : ""}`;
  try {
    const read = await readDesired(deps, names, signal);
    return { desired: (await writeDesired(deps, names, 0, read, { onConflict: "overwrite", rerun, ...(signal ? { signal } : {}) })).desired, desiredProblem: null };
  } catch (error) {
    if (signal?.aborted) throw error;
    if (isSynktiError(error) && error.code === "no-bucket") return { desired: null, desiredProblem: `no bucket ${names.bucket}, so no desired size to set` };
    const problem = `could not set s3://${names.bucket}/${names.desiredKey} to 0 workers: ${messageOf(error)}`;
    deps.log.warn(`down: ${problem}; terminating the instances anyway`);
    return { desired: null, desiredProblem: problem };
  }
}

/**
 * Best effort: terminateAndWait marks whatever is still unmarked (and terminates even when the
 * marking is refused), so a failure here only means the marker comes a little later.
 */
async function markStopping(deps: FleetDeps, ids: string[], signal?: AbortSignal): Promise<void> {
  if (ids.length === 0) return;
  try {
    await deps.ec2.tag(ids, { [TAG_STOPPING]: "true" }, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    deps.log.warn({ err: messageOf(error) }, "down: could not mark the instances stopping yet; the terminate step will");
  }
}
