import type { InstanceSummary } from "../../aws/ec2-instances.js";

/**
 * Pure planning (the planner never touches the world): desired workers vs the workers AWS lists,
 * and where the missing ones go. Spread is "fill the emptiest zone first", which is round-robin
 * starting from the zone with the fewest workers: one zone losing its spot capacity then costs
 * as few workers as possible. Ties go to the zone that sorts first, so plans are reproducible.
 */
export interface LaunchPlan {
  desired: number;
  /** Pending or running workers not marked as stopping. */
  active: number;
  toLaunch: number;
  /** Zones that offer the instance type and have a default subnet, sorted. */
  zones: string[];
  /** Workers per zone before this launch (zones of `zones` only). */
  counts: Record<string, number>;
  /** The zone of each new worker, in launch order. */
  placements: string[];
  /** The slot (SynktiSlot) of each new worker, with `placements`: the lowest empty slots. */
  slots: number[];
  /** A desired size below the workers holding slots: who drains and terminates itself (the launch launches nothing). */
  scaleDown: ScaleDown | null;
}

export interface ScaleDown {
  /** Workers holding a slot now, and the desired size they go down to. */
  from: number;
  to: number;
  /** The surplus: each holds a slot >= `to`, drains through the load balancer, then terminates itself. */
  retiring: Array<{ slot: number; instanceId: string }>;
}

/**
 * `slots`: the empty slots to fill, lowest first (src/deployer/desired/slots.ts); the launch fills
 * exactly those. Without it (no census), the count is the difference, as before slots existed.
 */
export function planLaunch(input: { desired: number; workers: InstanceSummary[]; zones: string[]; slots?: number[]; scaleDown?: ScaleDown | null }): LaunchPlan {
  const zones = [...new Set(input.zones)].sort();
  const counts = zoneCounts(input.workers, zones);
  const toLaunch = input.slots ? input.slots.length : Math.max(0, input.desired - input.workers.length);
  const running = { ...counts };
  const placements: string[] = [];
  for (let i = 0; i < toLaunch && zones.length > 0; i++) {
    const zone = leastLoaded(running, zones, new Set());
    if (zone === undefined) break;
    running[zone] = (running[zone] ?? 0) + 1;
    placements.push(zone);
  }
  const slots = input.slots ? input.slots.slice(0, placements.length) : placements.map((_, i) => input.workers.length + i);
  return { desired: input.desired, active: input.workers.length, toLaunch, zones, counts, placements, slots, scaleDown: input.scaleDown ?? null };
}

function zoneCounts(workers: InstanceSummary[], zones: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(zones.map((z) => [z, 0]));
  for (const w of workers) if (w.availabilityZone !== undefined && w.availabilityZone in counts) counts[w.availabilityZone]! += 1;
  return counts;
}

/** The usable zone with the fewest workers (ties: first in sorted order), skipping `exhausted`. */
export function leastLoaded(counts: Record<string, number>, zones: string[], exhausted: ReadonlySet<string>): string | undefined {
  let best: string | undefined;
  for (const zone of [...zones].sort()) {
    if (exhausted.has(zone)) continue;
    if (best === undefined || (counts[zone] ?? 0) < (counts[best] ?? 0)) best = zone;
  }
  return best;
}

/** One line for the operator: what the plan is, in words. */
export function describePlan(plan: LaunchPlan): string {
  const down = plan.scaleDown ? describeScaleDown(plan.scaleDown) : "";
  if (plan.toLaunch === 0) {
    if (down) return `${down}; launching nothing`;
    return `${plan.active} worker${plan.active === 1 ? "" : "s"} already pending or running: launching nothing`;
  }
  const where = Object.entries(tally(plan.placements)).map(([zone, n]) => `${n} in ${zone}`).join(", ");
  const slots = plan.slots.length > 0 ? `, slot${plan.slots.length === 1 ? "" : "s"} ${plan.slots.join(", ")}` : "";
  return `${plan.active} of ${plan.desired} workers pending or running: launching ${plan.toLaunch} (${where}${slots})${down ? `; ${down}` : ""}`;
}

/** "scale down from 3 to 2: slot 2 (i-...) drains and terminates itself". */
export function describeScaleDown(d: ScaleDown): string {
  if (d.retiring.length === 0) return `desired lowered from ${d.from} to ${d.to} workers: no worker holds a slot from ${d.to} up, none retires`;
  const who = d.retiring.map((r) => `slot ${r.slot} (${r.instanceId})`).join(", ");
  const n = d.retiring.length;
  return `scale down from ${d.from} to ${d.to} workers: ${who} ${n === 1 ? "drains and terminates itself" : "drain and terminate themselves"} (no request fails)`;
}

function tally(zones: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const z of zones) t[z] = (t[z] ?? 0) + 1;
  return t;
}
