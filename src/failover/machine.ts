import { rebalanceDeadlines, SELF_TERMINATE_AFTER_MS, spotDeadlines, tightened } from "./deadlines.js";
import { Draft, isoAt, type FailoverState } from "./draft.js";
import * as phase from "./phases.js";
import { isEnded } from "./timeline.js";
import type { FailoverEffect, FailoverEvent, FailoverSettings } from "./types.js";

/**
 * The failover as a pure step function: `(state, event) -> (state, effects)`. Time is only what
 * events carry (`at`), so a step is a function of its inputs and replaying is safe. The effect
 * runner performs the effects and turns their answers into further events; a `wake` effect asks
 * for a `tick` at that time. Deadlines are checked on every event, a tick only makes sure there is one.
 */
export interface StepResult {
  state: FailoverState;
  effects: FailoverEffect[];
}

export function initialState(settings: FailoverSettings): FailoverState {
  return { settings, status: "idle", noticeIds: [], candidates: [], failures: [], history: [] };
}

export function step(state: FailoverState, event: FailoverEvent): StepResult {
  const d = new Draft(state, event.at);
  switch (event.type) {
    case "notice":
      if (d.s.noticeIds.includes(event.id)) break; // the same notice twice is one failover
      d.s.noticeIds.push(event.id);
      if (event.kind === "spot-interruption") spotNotice(d, event.time);
      else if (d.s.status === "idle") begin(d, "rebalance");
      break;
    case "resumed":
      resume(d);
      break;
    case "tick":
      break; // deadlines are checked after every event, below
    case "drained":
      if (d.get("drain") === "running") d.phase("drain", "done", drainedDetail(event.inFlight));
      break;
    case "pools-observed":
      phase.poolsObserved(d, event);
      break;
    case "replacement-search":
      phase.replacementSearched(d, event.found);
      break;
    case "launched":
      phase.launched(d, event.candidate, event.instanceId);
      break;
    case "launch-failed":
      phase.launchFailed(d, event.candidate, event.reason, event.message);
      break;
    case "replacement-status":
      phase.replacementStatus(d, event);
      break;
    case "effect-failed":
      phase.readFailed(d, event);
      break;
  }
  // Every step checks the deadlines: an answer arriving at a deadline's very moment must not
  // leave that deadline unhandled (the next wake is always strictly later than now).
  tick(d);
  finish(d);
  const wake = nextWake(d.s, d.at);
  if (wake !== undefined) d.emit({ type: "wake", at: wake });
  return { state: d.s, effects: d.effects };
}

function begin(d: Draft, kind: "spot" | "rebalance", noticeTime?: number): void {
  const restart = d.s.status === "abandoned";
  d.s.status = "running";
  d.s.history.push({ at: d.at, type: restart ? "trigger" : "started", trigger: restart ? "rebalance-then-notice" : kind === "spot" ? "spot-interruption" : "rebalance-recommendation" });
  d.s.deadlines = noticeTime === undefined ? rebalanceDeadlines(d.at) : spotDeadlines(d.at, noticeTime);
  d.s.candidates = [];
  d.s.attempt = undefined;
  if (noticeTime !== undefined) phase.startDrain(d, d.s.deadlines.drain!);
  phase.startSelect(d);
}

/** A spot notice starts a failover, or upgrades the running one (earlier deadlines, drain now). */
function spotNotice(d: Draft, noticeTime: number): void {
  const first = d.s.noticeTime === undefined;
  d.s.noticeTime = noticeTime;
  d.s.history.push({ at: d.at, type: "deadline", deadlineAt: noticeTime });
  if (d.s.status === "idle" || d.s.status === "abandoned") return begin(d, "spot", noticeTime);
  if (first) d.s.history.push({ at: d.at, type: "trigger", trigger: "rebalance-then-notice" });
  if (d.s.status !== "running") return;
  d.s.deadlines = tightened(d.s.deadlines!, d.at, noticeTime);
  if (d.get("drain") === "pending" || d.get("drain") === "running") phase.startDrain(d, d.s.deadlines.drain!);
}

/** A restarted agent: ask again for what was in flight, and never launch before searching. */
function resume(d: Draft): void {
  if (d.s.status === "retired") d.emit({ type: "stop-model-server" });
  if (d.s.status !== "running") return;
  if (d.get("drain") === "running") d.emit({ type: "drain", until: d.s.deadlines!.drain! });
  // Drained before the restart: the new agent knows nothing of it and would join the target group
  // again once its model server is healthy. Asked again (its answer changes no phase): it stays out.
  else if (isEnded(d.get("drain"))) d.emit({ type: "drain", until: Math.min(d.s.deadlines?.drain ?? d.at, d.at) });
  if (d.get("select") === "running") phase.observePools(d);
  if (d.get("spawn") === "running" && !d.s.replacement) {
    // Whatever the launch was doing (in flight, waiting out a throttle), the search comes first.
    if (d.s.attempt) d.s.attempt = { ...d.s.attempt, inFlight: false, retryAt: undefined };
    d.emit({ type: "find-replacement", doomedId: d.s.settings.doomed.instanceId });
  }
  if (d.get("health") === "running" && d.s.replacement) {
    d.s.nextCheckAt = d.at;
    d.emit({ type: "check-replacement", instanceId: d.s.replacement.instanceId, at: d.at });
  }
}

function tick(d: Draft): void {
  const { deadlines, attempt, retry } = d.s;
  if (retry && d.at >= retry.at) {
    d.s.retry = undefined;
    if (retry.effect === "terminate-self") d.emit({ type: "terminate-self" });
    else if (retry.effect === "observe-pools") phase.observePools(d);
    else d.emit({ type: "find-replacement", doomedId: d.s.settings.doomed.instanceId });
  }
  if (attempt && !attempt.inFlight && attempt.retryAt !== undefined && d.at >= attempt.retryAt && d.get("spawn") === "running") {
    attempt.inFlight = true;
    attempt.retryAt = undefined;
    d.emit({ type: "launch", request: attempt.request }); // same pool, same ClientToken
  }
  if (!deadlines) return;
  if (d.get("drain") === "running" && deadlines.drain !== undefined && d.at >= deadlines.drain) d.phase("drain", "done", `drain deadline ${isoAt(deadlines.drain)} reached`);
  if (d.get("select") === "running" && d.at >= deadlines.select) {
    for (const p of ["select", "spawn", "health"] as const) d.phase(p, p === "health" ? "skipped" : "failed", `no pool chosen by the select deadline ${isoAt(deadlines.select)}`);
  }
  if (d.get("spawn") === "running" && d.at >= deadlines.spawn && !d.s.attempt?.inFlight && !d.s.replacement) phase.launchNext(d);
  phase.healthTick(d);
  if (d.s.status === "retired" && d.s.noticeTime !== undefined && d.at >= d.s.noticeTime + SELF_TERMINATE_AFTER_MS) d.emit({ type: "terminate-self" });
}

/**
 * Over when DRAIN and HEALTH have ended: the model server stops and the worker waits to be
 * reclaimed (AWS does not charge the partial hour it interrupts). A rebalance with no notice ends
 * itself at once; one whose replacement never came keeps serving (abandoned) until a notice.
 */
function finish(d: Draft): void {
  if (d.s.status !== "running" || !isEnded(d.get("health"))) return;
  if (d.get("drain") === "pending" && d.get("health") !== "done") {
    d.s.status = "abandoned";
    return;
  }
  if (!isEnded(d.get("drain"))) return;
  d.s.status = "retired";
  d.emit({ type: "stop-model-server" });
  if (d.s.noticeTime === undefined) d.emit({ type: "terminate-self" });
}

function nextWake(s: FailoverState, now: number): number | undefined {
  const times: (number | undefined)[] = [s.retry?.at, s.attempt?.inFlight ? undefined : s.attempt?.retryAt];
  if (s.status === "running" && s.deadlines) {
    times.push(s.deadlines.drain, s.deadlines.select, s.deadlines.spawn, s.deadlines.watch, s.replacement?.healthDeadline);
  }
  if (s.status === "retired" && s.noticeTime !== undefined) times.push(s.noticeTime + SELF_TERMINATE_AFTER_MS);
  const future = times.filter((t): t is number => t !== undefined && t > now);
  return future.length ? Math.min(...future) : undefined;
}

/** What DRAIN's end says; an unknown count (/metrics unreadable, or the drain was cut) is not "none". */
function drainedDetail(inFlight: number | undefined): string {
  if (inFlight === 0) return "no request in flight";
  if (inFlight === undefined) return "requests in flight unknown when the drain ended (/metrics unreadable or the worker stopping)";
  return `${inFlight} requests still in flight at the drain deadline`;
}
