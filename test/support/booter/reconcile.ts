/**
 * Pure: what the booter must do, given what it tracks and what moto says now.
 * - A running instance it has never seen: boot it (run its user-data). A pending one waits; moto
 *   has none, AWS does, and user-data only runs once the instance runs.
 * - A booted instance that is no longer pending/running (shutting-down, terminated, stopping,
 *   stopped) or has vanished from DescribeInstances: end it (kill all its processes).
 * - An instance seen first in an ended state (terminated before the booter started) is ignored;
 *   an ended one is never booted again: user-data runs once per instance, as with cloud-init.
 * - Booted instances still running get their current tags, so IMDS tags follow CreateTags (the
 *   worker publishes its address as a tag).
 */
import type { ObservedInstance } from "./moto-ec2.js";

export type Tracked = "booted" | "ended";

export interface Reconciliation {
  boot: ObservedInstance[];
  end: string[];
  alive: ObservedInstance[];
}

const ALIVE = new Set(["pending", "running"]);

export function reconcile(tracked: ReadonlyMap<string, Tracked>, observed: readonly ObservedInstance[]): Reconciliation {
  const result: Reconciliation = { boot: [], end: [], alive: [] };
  const seen = new Map(observed.map((i) => [i.instanceId, i]));
  for (const instance of observed) {
    const state = tracked.get(instance.instanceId);
    if (state === undefined && instance.state === "running") result.boot.push(instance);
    if (state === "booted" && ALIVE.has(instance.state)) result.alive.push(instance);
  }
  for (const [id, state] of tracked) {
    const now = seen.get(id);
    if (state === "booted" && (now === undefined || !ALIVE.has(now.state))) result.end.push(id);
  }
  return result;
}
