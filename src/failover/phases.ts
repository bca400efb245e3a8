import { lateDrainDeadline } from "./deadlines.js";
import { describePool, isoAt, RETRY_READ_MS, seconds, TERMINATE_RETRY_MS, type Draft } from "./draft.js";
import { rankPools, candidateKey } from "./select.js";
import { launchRequest } from "./spawn-request.js";
import { isEnded } from "./timeline.js";
import type { Candidate, FailoverEvent, LaunchFailure, Pool, PoolObservation } from "./types.js";

/** SELECT, SPAWN and HEALTH: what each answer does to the draft. Called by machine.ts only. */

export function startDrain(d: Draft, until: number): void {
  d.phase("drain", "running", `until ${isoAt(until)}`);
  d.s.deadlines = { ...d.s.deadlines!, drain: until };
  d.emit({ type: "drain", until });
}

export function startSelect(d: Draft): void {
  d.phase("select", "running");
  observePools(d);
}

/**
 * SELECT's read. `early` (a rebalance with no notice yet) asks the port whether an early replacement
 * fits (`earlyHold`); a notice's SELECT never waits for that answer.
 */
export function observePools(d: Draft): void {
  d.emit(d.s.noticeTime === undefined ? { type: "observe-pools", early: true } : { type: "observe-pools" });
}

/** No (further) replacement can be made: the open phases end with the reason. */
function noReplacement(d: Draft, detail: string): void {
  // HEALTH failed if a replacement was tried and never served; else it never had one to watch.
  const health = d.s.failures.some((f) => f.reason === "unhealthy") ? "failed" : "skipped";
  for (const phase of ["select", "spawn", "health"] as const) if (!isEnded(d.get(phase))) d.phase(phase, phase === "health" ? health : "failed", detail);
}

export function poolsObserved(d: Draft, observation: PoolObservation): void {
  if (d.get("select") !== "running") return;
  const { settings } = d.s;
  if (observation.stopping) {
    for (const phase of ["select", "spawn", "health"] as const) d.phase(phase, "skipped", "the cluster is being stopped (synkti down): no replacement");
    return;
  }
  // A held-back rebalance skips SELECT, SPAWN and HEALTH. DRAIN never started, so the failover ends
  // `abandoned`: the worker keeps serving, and a later notice starts over (and is never held back).
  if (observation.earlyHold !== undefined && d.s.noticeTime === undefined) {
    for (const phase of ["select", "spawn", "health"] as const) d.phase(phase, "skipped", `no early replacement now: ${observation.earlyHold}`);
    return;
  }
  // This failover's own failed spot pools count as recent failures too (a SELECT after a restart).
  const own = d.s.failures.filter((f) => f.candidate.market !== "on-demand").map((f) => ({ pool: f.candidate, at: f.at }));
  const recentFailures = [...observation.recentFailures, ...own];
  const { doomed, instanceTypes, onDemandFallback, failureMemoryMs } = settings;
  d.s.candidates = rankPools({ ...observation, recentFailures, doomed, instanceTypes, onDemandFallback, failureMemoryMs, now: d.at });
  if (d.s.candidates.length === 0) {
    const zones = observation.lbZones.join(", ");
    return noReplacement(d, `no pool to try: every allowed type's pool in the load balancer's zones (${zones}) is the interrupted one or failed recently`);
  }
  d.phase("select", "done", `${d.s.candidates.length} pools, first ${describePool(d.s.candidates[0]!)}`);
  d.phase("spawn", "running");
  // Exactly once: a replacement an earlier run launched is found before any launch is made.
  d.emit({ type: "find-replacement", doomedId: settings.doomed.instanceId });
}

export function replacementSearched(d: Draft, found: { instanceId: string; pool?: Pool } | undefined): void {
  if (d.get("spawn") !== "running" || d.s.replacement || d.s.attempt?.inFlight) return;
  const candidate = found?.pool ? { instanceType: found.pool.instanceType, zone: found.pool.zone, market: "spot" as const } : undefined;
  if (found) return adopt(d, found.instanceId, candidate, `found ${found.instanceId}, already launched for ${d.s.settings.doomed.instanceId}: no second launch`);
  launchNext(d);
}

/** Launches in the first remaining pool, or ends SPAWN when no pool or no time is left. */
export function launchNext(d: Draft): void {
  const tried = d.s.failures.map((f) => `${describePool(f.candidate)}: ${f.reason}`).join("; ");
  if (d.at >= d.s.deadlines!.spawn) return noReplacement(d, `no replacement launched by the spawn deadline ${isoAt(d.s.deadlines!.spawn)}${tried ? ` (${tried})` : ""}`);
  const candidate = d.s.candidates[0];
  if (!candidate) return noReplacement(d, `every pool failed (${tried})`);
  const same = d.s.attempt && candidateKey(d.s.attempt.request.candidate) === candidateKey(candidate);
  const request = launchRequest(d.s.settings.project, d.s.settings.doomed, candidate);
  d.s.attempt = { request, throttles: same ? d.s.attempt!.throttles : 0, inFlight: true };
  d.emit({ type: "launch", request });
}

function adopt(d: Draft, instanceId: string, candidate: Candidate | undefined, detail: string): void {
  d.s.attempt = undefined;
  d.s.replacement = { instanceId, ...(candidate ? { candidate } : {}), launchedAt: d.at, healthDeadline: d.at + d.s.settings.healthBudgetMs };
  d.s.history.push({ at: d.at, type: "replacement", instanceId });
  d.phase("spawn", "done", detail);
  d.phase("health", "running", `waiting for ${instanceId} to serve`);
  d.s.nextCheckAt = d.at;
  d.emit({ type: "check-replacement", instanceId, at: d.at });
}

export function launched(d: Draft, candidate: Candidate, instanceId: string): void {
  if (d.get("spawn") !== "running" || d.s.replacement) return;
  adopt(d, instanceId, candidate, `launched ${instanceId} in ${describePool(candidate)}`);
}

export function launchFailed(d: Draft, candidate: Candidate, reason: LaunchFailure, message: string): void {
  const attempt = d.s.attempt;
  if (d.get("spawn") !== "running" || !attempt || candidateKey(attempt.request.candidate) !== candidateKey(candidate)) return;
  if (reason === "throttled") {
    attempt.throttles += 1;
    attempt.inFlight = false;
    attempt.retryAt = d.at + d.s.settings.throttleBackoffMs * 2 ** Math.min(attempt.throttles - 1, 3);
    d.phase("spawn", "running", `${describePool(candidate)}: throttled ${attempt.throttles}x, retrying at ${isoAt(attempt.retryAt)}`);
    if (attempt.retryAt >= d.s.deadlines!.spawn) {
      d.s.attempt = undefined;
      noReplacement(d, `RunInstances throttled until the spawn deadline ${isoAt(d.s.deadlines!.spawn)}: ${message}`);
    }
    return;
  }
  // Capacity (or a refusal for this type or zone): the next pool, with its own ClientToken.
  d.s.attempt = undefined;
  d.s.failures.push({ candidate, at: d.at, reason });
  d.s.candidates = d.s.candidates.filter((c) => candidateKey(c) !== candidateKey(candidate));
  d.phase("spawn", "running", `${describePool(candidate)}: ${reason} (${message})`);
  launchNext(d);
}

export function replacementStatus(d: Draft, event: Extract<FailoverEvent, { type: "replacement-status" }>): void {
  const replacement = d.s.replacement;
  if (d.get("health") !== "running" || replacement?.instanceId !== event.instanceId) return;
  if (event.state === "serving" && event.targetHealthy) {
    d.s.nextCheckAt = undefined;
    d.phase("health", "done", `${event.instanceId} serving and healthy in the target group ${seconds(d.at - replacement.launchedAt)} after its launch`);
    // A rebalance drains only now: the cluster never had one worker less.
    if (d.get("drain") === "pending") startDrain(d, lateDrainDeadline(d.at, d.s.noticeTime));
    return;
  }
  d.s.nextCheckAt = d.at + d.s.settings.healthPollMs;
  d.emit({ type: "check-replacement", instanceId: event.instanceId, at: d.s.nextCheckAt });
}

/** HEALTH's deadlines, on a tick: a replacement that did not serve in time makes room for another. */
export function healthTick(d: Draft): void {
  const replacement = d.s.replacement;
  if (d.get("health") !== "running" || !replacement) return;
  if (d.at >= replacement.healthDeadline) {
    d.emit({ type: "terminate-replacement", instanceId: replacement.instanceId });
    const candidate = replacement.candidate ?? { instanceType: "unknown", zone: "unknown" };
    d.s.failures.push({ candidate, at: d.at, reason: "unhealthy" });
    if (replacement.candidate) d.s.candidates = d.s.candidates.filter((c) => candidateKey(c) !== candidateKey(replacement.candidate!));
    d.s.replacement = undefined;
    d.s.nextCheckAt = undefined;
    const why = `${replacement.instanceId} did not serve within ${seconds(d.s.settings.healthBudgetMs)}: terminated`;
    d.phase("health", "running", why);
    d.phase("spawn", "running", why);
    return launchNext(d);
  }
  const watch = d.s.deadlines?.watch;
  if (watch !== undefined && d.at >= watch) {
    d.s.nextCheckAt = undefined;
    d.phase("health", "handed-over", `${replacement.instanceId} still loading at the notice time: it records its own HEALTH`);
  }
}

/** A read that failed is asked again shortly; a launch whose answer was lost is searched for first. */
export function readFailed(d: Draft, effect: FailoverEvent & { type: "effect-failed" }): void {
  if (effect.effect === "observe-pools" && d.get("select") === "running") d.s.retry = { effect: "observe-pools", at: d.at + RETRY_READ_MS };
  if ((effect.effect === "find-replacement" || effect.effect === "launch") && d.get("spawn") === "running" && !d.s.replacement) {
    if (d.s.attempt) d.s.attempt.inFlight = false;
    d.s.retry = { effect: "find-replacement", at: d.at + RETRY_READ_MS };
  }
  if (effect.effect === "check-replacement" && d.s.replacement && d.get("health") === "running") {
    d.s.nextCheckAt = d.at + d.s.settings.healthPollMs;
    d.emit({ type: "check-replacement", instanceId: d.s.replacement.instanceId, at: d.s.nextCheckAt });
  }
  if (effect.effect === "drain" && d.get("drain") === "running") d.phase("drain", "failed", effect.message);
  // A retired worker still up serves nothing and bills (a rebalance may never be followed by a
  // reclaim): its self-termination is asked again until AWS takes it.
  if (effect.effect === "terminate-self" && d.s.status === "retired") d.s.retry = { effect: "terminate-self", at: d.at + TERMINATE_RETRY_MS };
}
