/**
 * Per-phase deadlines, derived from the notice's own time (T), never from when the agent happened
 * to read it: a notice seen late leaves less time, not the same time shifted. Pure.
 *
 * Spot notice (T known):
 * - DRAIN ends DRAIN_MARGIN_MS before T, so the last response has left before AWS acts;
 * - SELECT gets SELECT_BUDGET_MS from the start (a choice over a few pools from one observation);
 * - SPAWN may start launches until SPAWN_MARGIN_MS before T (the doomed worker must still be there
 *   to see the answer and record it);
 * - HEALTH is watched until T at the latest; a replacement still loading then is handed over.
 * Rebalance recommendation (no T): SELECT/SPAWN/HEALTH run while still serving; SPAWN may try pools
 * for REBALANCE_SPAWN_BUDGET_MS; a drain after the replacement serves gets DRAIN_BUDGET_MS.
 * Nothing is ever later than T (or than the start, when the notice was read after T).
 */
export const DRAIN_MARGIN_MS = 10_000;
export const SELECT_BUDGET_MS = 5_000;
export const SPAWN_MARGIN_MS = 5_000;
export const REBALANCE_SPAWN_BUDGET_MS = 10 * 60_000;
/** The target group's deregistration delay: longer would outlast the load balancer's own drain. */
export const DRAIN_BUDGET_MS = 90_000;
/** The doomed worker terminates itself only if AWS has not reclaimed it this long after T. */
export const SELF_TERMINATE_AFTER_MS = 60_000;

export interface Deadlines {
  drain?: number;
  select: number;
  spawn: number;
  /** The end of the doomed worker's HEALTH watch (T); absent for a rebalance. */
  watch?: number;
}

/** Clamps `at` into [start, T]: before T when possible, never before the start. */
const byNotice = (at: number, start: number, noticeTime: number) => Math.max(Math.min(at, noticeTime), Math.min(start, noticeTime));

export function spotDeadlines(start: number, noticeTime: number): Deadlines {
  return {
    drain: byNotice(noticeTime - DRAIN_MARGIN_MS, start, noticeTime),
    select: byNotice(start + SELECT_BUDGET_MS, start, noticeTime),
    spawn: byNotice(noticeTime - SPAWN_MARGIN_MS, start, noticeTime),
    watch: noticeTime,
  };
}

export function rebalanceDeadlines(start: number): Deadlines {
  return { select: start + SELECT_BUDGET_MS, spawn: start + REBALANCE_SPAWN_BUDGET_MS };
}

/**
 * A notice during a rebalance failover (or a notice whose time AWS moved): every deadline becomes
 * the earlier of what it was and what T allows; a drain that had not started gets T's.
 */
export function tightened(current: Deadlines, now: number, noticeTime: number): Deadlines {
  const spot = spotDeadlines(now, noticeTime);
  return {
    drain: Math.min(current.drain ?? Infinity, spot.drain!),
    select: Math.min(current.select, spot.select),
    spawn: Math.min(current.spawn, spot.spawn),
    watch: noticeTime,
  };
}

/** A drain that starts after the replacement serves (rebalance): capped by T when one is known. */
export function lateDrainDeadline(now: number, noticeTime?: number): number {
  const budget = now + DRAIN_BUDGET_MS;
  return noticeTime === undefined ? budget : byNotice(Math.min(budget, noticeTime - DRAIN_MARGIN_MS), now, noticeTime);
}
