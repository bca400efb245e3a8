import { randomBytes } from "node:crypto";
import { toSynktiError } from "../../aws/errors.js";
import { isSynktiError, SynktiError } from "../../core/errors.js";
import { fleetStatus } from "../fleet/status.js";
import type { FleetDeps } from "../fleet/terminate.js";
import type { SpotPrices } from "../../aws/spot-prices.js";
import { TAG_MODEL } from "../../infra/names.js";
import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { activeWorkers, checkModel, otherModelError } from "./model-check.js";
import { describePlan, planLaunch, type LaunchPlan } from "./plan.js";
import { buildProposal, type LaunchProposal } from "./proposal.js";
import { runWorkers } from "./run-workers.js";
import { LaunchScope } from "./scope.js";
import type { LaunchInput, LaunchResult, LaunchTarget } from "./types.js";
import { waitUntilRunning } from "./wait-running.js";

/** Launch collaborators: the fleet's, plus the spot prices the plan shows (absent: prices unknown). */
export type LaunchDeps = FleetDeps & { prices?: SpotPrices };

/** The observed fleet and what this launch would do about it: shown (and asked) before acting. */
export interface PreparedLaunch {
  plan: LaunchPlan;
  proposal: LaunchProposal;
  message: string;
}

/**
 * Lists the project's workers, refuses a launch for another model than theirs, plans the missing
 * workers and prices them. Acquires nothing: Ctrl-C or an error here leaves nothing behind.
 */
export async function prepareLaunch(
  deps: LaunchDeps,
  input: { target: LaunchTarget; workers: number; signal?: AbortSignal; /** The preflight's listing (hand-over); listed here when absent. */ active?: InstanceSummary[] },
): Promise<PreparedLaunch> {
  const { target, signal } = input;
  return beforeLaunch(signal, async () => {
    const active = input.active ?? (await activeWorkers(deps.ec2, target.project, signal));
    const models = checkModel(active, target.model);
    const refusal = otherModelError(models, target);
    if (refusal) throw refusal;
    if (models.untagged.length > 0) {
      deps.log.warn({ instances: models.untagged }, `${models.untagged.join(", ")}: no ${TAG_MODEL} tag (launched by an older synkti); counted as serving ${target.model}. If not: synkti down --project-name ${target.project} --region ${target.region}`);
    }
    const plan = planLaunch({ desired: input.workers, workers: active, zones: Object.keys(target.subnets) });
    if (plan.placements.length < plan.toLaunch) {
      throw new SynktiError(`Nowhere to launch: no availability zone offers ${target.instanceType} with a default subnet.`, {
        code: "no-zone",
        kind: "unsafe",
        remedy: `synkti preflight --project-name ${target.project} --region ${target.region} --instance-type <instance-type>`,
      });
    }
    const prices = plan.toLaunch > 0 ? await currentPrices(deps, target, plan, signal) : undefined;
    return { plan, proposal: buildProposal(plan, target, prices), message: describePlan(plan) };
  });
}

/** The price is information, not a precondition: a denied or failed read leaves it unknown. */
async function currentPrices(deps: LaunchDeps, target: LaunchTarget, plan: LaunchPlan, signal?: AbortSignal): Promise<Record<string, number> | undefined> {
  if (!deps.prices) return undefined;
  try {
    return await deps.prices.current(target.instanceType, [...new Set(plan.placements)], signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not read the current spot price; the plan shows it as unknown");
    return undefined;
  }
}

/**
 * The deployer's launch: the prepared plan (prepared here when not given), launched inside a
 * LaunchScope, waiting until the new instances run, then committed. Anything that goes wrong before
 * the commit (an AWS error, no capacity anywhere, Ctrl-C) undoes exactly this launch, so from the
 * operator's side a launch either completes or leaves the fleet as it was. A re-run launches only
 * what is missing.
 */
export async function launchWorkers(deps: LaunchDeps, input: LaunchInput & { prepared?: PreparedLaunch }): Promise<LaunchResult> {
  const { target, signal } = input;
  const { plan, proposal, message } = input.prepared ?? (await prepareLaunch(deps, input));
  deps.log.info({ plan: { desired: plan.desired, active: plan.active, placements: plan.placements } }, message);
  const base = { project: target.project, desired: plan.desired, existing: plan.active, imageId: target.imageId, instanceType: target.instanceType, plan: proposal };
  if (plan.toLaunch === 0) {
    return { ...base, launchId: null, launched: [], fallbacks: [], message, workers: (await fleetStatus(deps, target.project, signal)).workers };
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
