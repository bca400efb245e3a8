import { randomBytes } from "node:crypto";
import { toSynktiError } from "../../aws/errors.js";
import { isSynktiError, SynktiError } from "../../core/errors.js";
import { fleetStatus } from "../fleet/status.js";
import { ACTIVE_STATES, isStopping, workerSelector } from "../fleet/tags.js";
import type { FleetDeps } from "../fleet/terminate.js";
import { describePlan, planLaunch } from "./plan.js";
import { runWorkers } from "./run-workers.js";
import { LaunchScope } from "./scope.js";
import type { LaunchInput, LaunchResult } from "./types.js";
import { waitUntilRunning } from "./wait-running.js";

/**
 * The deployer's launch: observe the workers, plan the difference, launch it inside a LaunchScope,
 * wait until the new instances run, commit. Anything that goes wrong before the commit (an AWS
 * error, no capacity anywhere, Ctrl-C) undoes exactly this launch, so from the operator's side a
 * launch either completes or leaves the fleet as it was. A re-run launches only what is missing.
 */
export async function launchWorkers(deps: FleetDeps, input: LaunchInput): Promise<LaunchResult> {
  const { target, signal } = input;
  const active = await beforeLaunch(signal, async () =>
    (await deps.ec2.describe({ tags: workerSelector(target.project), states: ACTIVE_STATES }, signal)).filter((i) => !isStopping(i.tags)),
  );
  const plan = planLaunch({ desired: input.workers, workers: active, zones: Object.keys(target.subnets) });
  const message = describePlan(plan);
  deps.log.info({ plan: { desired: plan.desired, active: plan.active, placements: plan.placements } }, message);
  const base = { project: target.project, desired: plan.desired, existing: plan.active, imageId: target.imageId, instanceType: target.instanceType };
  if (plan.toLaunch === 0) {
    return { ...base, launchId: null, launched: [], fallbacks: [], message, workers: (await fleetStatus(deps, target.project, signal)).workers };
  }

  if (plan.placements.length < plan.toLaunch) {
    throw new SynktiError(`Nowhere to launch: no availability zone offers ${target.instanceType} with a default subnet.`, {
      code: "no-zone",
      kind: "unsafe",
      remedy: `synkti preflight --project-name ${target.project} --region ${target.region} --instance-type <instance-type>`,
    });
  }

  const scope = new LaunchScope(deps, target.project, input.launchId ?? newLaunchId(deps.clock.now()), {
    ...(input.cleanupDeadlineMs !== undefined ? { cleanupDeadlineMs: input.cleanupDeadlineMs } : {}),
    ...(input.pollIntervalMs !== undefined ? { intervalMs: input.pollIntervalMs } : {}),
  });
  let launched;
  try {
    await using owned = scope;
    launched = await runWorkers(deps, owned, target, plan, {
      concurrency: input.concurrency ?? 4,
      ...(signal ? { signal } : {}),
      ...(input.forceSignal ? { forceSignal: input.forceSignal } : {}),
    });
    await waitUntilRunning(deps, owned, {
      deadlineMs: input.runningDeadlineMs ?? 10 * 60_000,
      ...(input.pollIntervalMs !== undefined ? { intervalMs: input.pollIntervalMs } : {}),
      ...(signal ? { signal } : {}),
    });
    owned.commit();
  } catch (error) {
    throw launchFailure(error, scope, input);
  }
  const done = `${message}; ${scope.instanceIds.length} running (launch ${scope.launchId})`;
  return {
    ...base,
    launchId: scope.launchId,
    launched: launched.instances.map((i) => ({ instanceId: i.instanceId, availabilityZone: i.availabilityZone })),
    fallbacks: launched.fallbacks,
    message: done,
    workers: await statusAfterCommit(deps, target.project),
  };
}

/**
 * The fleet as it stands, for the result. The launch is committed by now: a failure here (an AWS
 * hiccup) must not turn a successful launch into an error exit, so it is logged and the list left empty.
 */
async function statusAfterCommit(deps: FleetDeps, project: string) {
  try {
    return (await fleetStatus(deps, project)).workers;
  } catch (error) {
    deps.log.warn({ error: error instanceof Error ? error.message : String(error) }, `launched; listing the workers failed: synkti status --project-name ${project}`);
    return [];
  }
}

/** Sortable and readable in the console: l-20260101-120000-1a2b3c. */
export function newLaunchId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `l-${stamp}-${randomBytes(3).toString("hex")}`;
}

function interruptedError(detail: string): SynktiError {
  return new SynktiError(`Interrupted. ${detail}`, { code: "interrupted", kind: "interrupted" });
}

/**
 * Runs work that comes before any instance exists (preflight, resolution, the first listing):
 * Ctrl-C there (before it or while an AWS call is cut short) is a plain "nothing was launched".
 */
export async function beforeLaunch<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw interruptedError("Nothing was launched.");
  try {
    return await work();
  } catch (error) {
    if (signal?.aborted) throw interruptedError("Nothing was launched.");
    throw error;
  }
}

/** The error the operator sees: what went wrong, then what the cleanup did (or could not do). */
function launchFailure(error: unknown, scope: LaunchScope, input: LaunchInput): SynktiError {
  const cleanup = scope.cleanup;
  const launch = `launch ${scope.launchId}`;
  let said: string;
  let remedy: string | undefined;
  if (cleanup === undefined || cleanup.complete) {
    const ids = cleanup?.terminated ?? [];
    said = ids.length > 0 ? `Undid ${launch}: terminated ${ids.join(", ")}; nothing else was touched.` : `Undid ${launch}: it had created no instance.`;
  } else {
    const left = cleanup.remaining.map((r) => r.instanceId);
    said = `Could not fully undo ${launch}: ${left.join(", ") || "its instances"} not confirmed terminated${cleanup.lastError ? ` (${cleanup.lastError})` : ""}.`;
    remedy = left.length > 0 ? `aws ec2 terminate-instances --instance-ids ${left.join(" ")} --region ${input.target.region}` : `synkti leaks --project-name ${input.target.project} --region ${input.target.region}`;
  }
  if (input.signal?.aborted) {
    const interrupted = interruptedError(said);
    return remedy ? new SynktiError(interrupted.message, { code: "interrupted", kind: "interrupted", remedy }) : interrupted;
  }
  const base = isSynktiError(error) ? error : toSynktiError(error, "launching workers");
  return new SynktiError(`${base.message} ${said}`, { code: base.code, kind: base.kind, fault: base.fault, remedy: remedy ?? base.remedy, cause: error });
}
