import { randomBytes } from "node:crypto";
import { toSynktiError } from "../../aws/errors.js";
import { isSynktiError, SynktiError, messageOf } from "../../core/errors.js";
import { fleetStatus } from "../fleet/status.js";
import type { FleetDeps } from "../fleet/terminate.js";
import type { SpotPrices } from "../../aws/spot-prices.js";
import { projectNames, TAG_MODEL, workerSelector } from "../../infra/names.js";
import type { ObjectReader } from "../../aws/s3-objects.js";
import type { DesiredObjects } from "../desired/store.js";
import { desiredGeneration, type Desired } from "../../cluster/desired.js";
import { claimSlots, type ClaimOutcome } from "../desired/claims.js";
import { undoIntent } from "../desired/undo.js";
import { slotView, type SlotView } from "../desired/slots.js";
import { writeDesired, type DesiredWrite } from "../desired/store.js";
import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { otherModelError } from "./model-check.js";
import { activeWorkers, checkModel } from "../../cluster/membership.js"; // preflight judges the same fleet
import { describePlan, planLaunch, type LaunchPlan, type ScaleDown } from "./plan.js";
import { buildProposal, type LaunchProposal } from "./proposal.js";
import { runWorkers } from "./run-workers.js";
import { LaunchScope } from "./scope.js";
import type { LaunchInput, LaunchResult, LaunchTarget } from "./types.js";
import { waitUntilRunning } from "./wait-running.js";

/**
 * Launch collaborators: the fleet's, the spot prices the plan shows (absent: prices unknown), and
 * the bucket's conditional writes and listings for the desired size and the slot claims (absent:
 * neither is written, as in tests of the bare launch).
 */
export type LaunchDeps = FleetDeps & { prices?: SpotPrices; conditional?: DesiredObjects; objects?: ObjectReader };

/** The observed fleet and what this launch would do about it: shown (and asked) before acting. */
export interface PreparedLaunch {
  plan: LaunchPlan;
  proposal: LaunchProposal;
  message: string;
  /** Which slots are held, empty (the plan fills them) and surplus, by the workers' own census. */
  slots: SlotView;
}

/**
 * Lists the project's workers, refuses a launch for another model than theirs, plans the missing
 * workers and prices them. Acquires nothing: Ctrl-C or an error here leaves nothing behind.
 */
export async function prepareLaunch(
  deps: LaunchDeps,
  input: Pick<LaunchInput, "target" | "workers" | "signal" | "intent"> & { /** The preflight's listing (hand-over); listed here when absent. */ active?: InstanceSummary[] },
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
    // Every state AWS still lists: a terminated worker names the cause of the slot it left empty.
    const listed = await deps.ec2.describe({ tags: workerSelector(target.project) }, signal);
    const slots = slotView(listed, input.workers, deps.clock.now());
    const lowering = input.intent?.decision.lowering ?? null;
    const scaleDown: ScaleDown | null =
      lowering || slots.surplus.length > 0 ? { from: lowering?.from ?? slots.holders.length + slots.surplus.length, to: input.workers, retiring: slots.surplus } : null;
    const plan = planLaunch({ desired: input.workers, workers: active, zones: Object.keys(target.subnets), slots: slots.fill.map((f) => f.slot), scaleDown });
    if (plan.placements.length < plan.toLaunch) {
      throw new SynktiError(`Nowhere to launch: no availability zone offers ${target.instanceType} with a default subnet.`, {
        code: "no-zone",
        kind: "unsafe",
        remedy: `synkti preflight --project-name ${target.project} --region ${target.region} --instance-type <instance-type>`,
      });
    }
    const prices = plan.toLaunch > 0 ? await currentPrices(deps, target, plan, signal) : undefined;
    return { plan, proposal: buildProposal(plan, target, prices), message: describePlan(plan), slots };
  });
}

/** The price is information, not a precondition: a denied or failed read leaves it unknown. */
async function currentPrices(deps: LaunchDeps, target: LaunchTarget, plan: LaunchPlan, signal?: AbortSignal): Promise<Record<string, number> | undefined> {
  if (!deps.prices) return undefined;
  try {
    return await deps.prices.current(target.instanceType, [...new Set(plan.placements)], signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    deps.log.warn({ err: messageOf(error) }, "could not read the current spot price; the plan shows it as unknown");
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
  const names = projectNames(target.project);
  const prepared = input.prepared ?? (await prepareLaunch(deps, input));
  const { plan, proposal, message } = prepared;
  deps.log.info({ plan: { desired: plan.desired, active: plan.active, placements: plan.placements, slots: plan.slots } }, message);
  // The intent first: from here on, the workers' census counts towards the new size.
  const written = await writeIntent(deps, names, input);
  const read = input.intent?.read;
  const desiredFile: Desired | null = written?.desired ?? (read?.status === "set" ? read.desired : null);
  const base = {
    project: target.project,
    desired: plan.desired,
    desiredFile,
    desiredSource: input.intent?.decision.source ?? null,
    existing: plan.active,
    imageId: target.imageId,
    instanceType: target.instanceType,
    plan: proposal,
    heldSlots: [] as LaunchResult["heldSlots"],
  };
  if (plan.toLaunch === 0) {
    return { ...base, launchId: null, launched: [], fallbacks: [], message, workers: (await fleetStatus(deps, target.project, signal)).workers };
  }

  const scope = new LaunchScope(deps, target.project, input.launchId ?? newLaunchId(deps.clock.now()), {
    ...(input.cleanupDeadlineMs !== undefined ? { cleanupDeadlineMs: input.cleanupDeadlineMs } : {}),
    ...(input.pollIntervalMs !== undefined ? { intervalMs: input.pollIntervalMs } : {}),
  });
  let launched;
  let claims: ClaimOutcome | undefined;
  let toRun = plan;
  try {
    await using owned = scope;
    // No desired.json (an older cluster, no --workers): repair is inactive, nobody else fills slots, no claim.
    if (desiredFile && deps.conditional && deps.objects) {
      const fills = plan.slots.map((slot) => prepared.slots.fill.find((f) => f.slot === slot) ?? { slot });
      claims = await claimSlots({ conditional: deps.conditional, objects: deps.objects, clock: deps.clock, log: deps.log }, names, fills, desiredGeneration(desiredFile), scope.launchId, prepared.slots.view, signal);
      toRun = onlyClaimed(plan, claims);
      base.heldSlots = claims.held;
    }
    launched = await runWorkers(deps, owned, target, toRun, {
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
    const gone = scope.cleanup === undefined || scope.cleanup.complete;
    const undone = deps.conditional && deps.objects ? await undoIntent({ conditional: deps.conditional, objects: deps.objects, clock: deps.clock, log: deps.log }, names, { gone, claims, written }) : "";
    throw launchFailure(error, scope, input, undone);
  }
  const held = base.heldSlots.length > 0 ? `; slot${base.heldSlots.length === 1 ? "" : "s"} ${base.heldSlots.map((h) => h.slot).join(", ")} left to the worker repairing ${base.heldSlots.length === 1 ? "it" : "them"}` : "";
  const done = `${message}; ${scope.instanceIds.length} running (launch ${scope.launchId})${held}`;
  return {
    ...base,
    launchId: scope.launchId,
    launched: launched.instances.map((i) => ({ instanceId: i.instanceId, availabilityZone: i.availabilityZone, slot: i.slot })),
    fallbacks: launched.fallbacks,
    message: done,
    workers: await statusAfterCommit(deps, target.project),
  };
}

/** `--workers` given: the new desired size, written conditionally (a lost race stops the launch before anything is acquired). */
async function writeIntent(deps: LaunchDeps, names: ReturnType<typeof projectNames>, input: LaunchInput): Promise<DesiredWrite | undefined> {
  const intent = input.intent;
  if (!intent?.decision.write || !deps.conditional) return undefined;
  return beforeLaunch(input.signal, () =>
    writeDesired({ conditional: deps.conditional!, clock: deps.clock, log: deps.log }, names, intent.decision.workers, intent.read, {
      onConflict: "refuse",
      rerun: intent.rerun,
      ...(input.signal ? { signal: input.signal } : {}),
    }),
  );
}

/** The plan without the slots someone else holds a claim on. */
function onlyClaimed(plan: LaunchPlan, claims: ClaimOutcome): LaunchPlan {
  const mine = new Set(claims.claimed.map((c) => c.slot));
  const keep = plan.slots.map((slot) => mine.has(slot));
  return { ...plan, toLaunch: mine.size, placements: plan.placements.filter((_, i) => keep[i]), slots: plan.slots.filter((_, i) => keep[i]) };
}

/**
 * The fleet as it stands, for the result. The launch is committed by now: a failure here (an AWS
 * hiccup) must not turn a successful launch into an error exit, so it is logged and the list left empty.
 */
async function statusAfterCommit(deps: FleetDeps, project: string) {
  try {
    return (await fleetStatus(deps, project)).workers;
  } catch (error) {
    deps.log.warn({ error: messageOf(error) }, `launched; listing the workers failed: synkti status --project-name ${project}`);
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
function launchFailure(error: unknown, scope: LaunchScope, input: LaunchInput, intentUndone = ""): SynktiError {
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
  if (intentUndone) said = `${said} ${intentUndone}`;
  if (input.signal?.aborted) {
    const interrupted = interruptedError(said);
    return remedy ? new SynktiError(interrupted.message, { code: "interrupted", kind: "interrupted", remedy }) : interrupted;
  }
  const base = isSynktiError(error) ? error : toSynktiError(error, "launching workers");
  return new SynktiError(`${base.message} ${said}`, { code: base.code, kind: base.kind, fault: base.fault, remedy: remedy ?? base.remedy, cause: error });
}
