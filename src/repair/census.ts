/**
 * The census: from a member's listing (and fresher single-instance checks) and the desired size,
 * which slots are held, which are empty and why, who is surplus, which holders are duplicates, and
 * which never served. Pure; every member computes the same from the same view.
 */
import { TAG_REPLACES, TAG_SERVED_AT, TAG_SLOT, TAG_STATE } from "../infra/names.js";
import { NEVER_SERVED_MS } from "./constants.js";
import { parseSlot } from "./slot.js";
import type { Census, CensusInput, Duplicate, Ec2State, EmptySlot, Holder, InstanceCheck, SeenInstance } from "./types.js";

export { parseSlot };

/** The EC2 states in which an instance is, or is becoming, a worker. */
export const LIVE_EC2_STATES: ReadonlySet<string> = new Set(["pending", "running"]);

/** SynktiState values that no longer hold a slot: the instance is leaving (retiring) or gave up (failed). */
const NOT_HOLDING: ReadonlySet<string> = new Set(["retiring", "failed"]);

/**
 * SynktiState values that prove a worker served even without SynktiServedAt: a worker launched by
 * an older synkti (which never wrote SynktiServedAt) must not be retired as never served.
 */
const SERVES: ReadonlySet<string> = new Set(["serving", "draining"]);

/** Whether an instance's tags show it has served: the never-served rule's one test (census and its re-check). */
export function hasServed(tags: Readonly<Record<string, string>>): boolean {
  return tags[TAG_SERVED_AT] !== undefined || SERVES.has(tags[TAG_STATE] ?? "");
}

/**
 * One instance of an EC2 answer as the census reads it: the worker's listings and checks
 * (src/aws/ec2-peers.ts) and the deployer's (src/aws/ec2-instances.ts) have this shape, so both
 * judge the same instance alike. No state: running (a listing of running instances).
 */
export function seenInstance(i: {
  instanceId: string;
  state?: Exclude<Ec2State, "unknown">;
  launchTime?: Date | undefined;
  tags: Readonly<Record<string, string>>;
  instanceType?: string | undefined;
  availabilityZone?: string | undefined;
}): SeenInstance {
  return {
    id: i.instanceId,
    state: i.state ?? "running",
    launchedAt: i.launchTime?.getTime() ?? 0,
    tags: i.tags,
    ...(i.instanceType ? { instanceType: i.instanceType } : {}),
    ...(i.availabilityZone ? { zone: i.availabilityZone } : {}),
  };
}

export const slotOf = (i: SeenInstance): number | undefined => parseSlot(i.tags[TAG_SLOT]);

/** Live, and not leaving: what may hold a slot, and what may act as a repairer. */
export const isLive = (i: SeenInstance): boolean => LIVE_EC2_STATES.has(i.state) && !NOT_HOLDING.has(i.tags[TAG_STATE] ?? "");

/**
 * The listing with newer single-instance checks laid over it (a watcher's DescribeInstances about
 * one id is fresher than its listing). A check about an id the listing lacks adds nothing: without
 * its tags it names no slot.
 */
export function withChecks(instances: readonly SeenInstance[], checks: readonly InstanceCheck[] | undefined, listedAt: number): SeenInstance[] {
  if (!checks?.length) return [...instances];
  const latest = new Map<string, InstanceCheck>();
  for (const check of checks) {
    const known = latest.get(check.id);
    if (check.at > listedAt && (!known || check.at > known.at)) latest.set(check.id, check);
  }
  return instances.map((i) => {
    const check = latest.get(i.id);
    return check ? { ...i, state: check.state } : i;
  });
}

/** Launch order: earlier first, ties by instance id. Every member orders alike (both are immutable). */
const byLaunch = (a: SeenInstance, b: SeenInstance) => a.launchedAt - b.launchedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** One of the two replaces the other (a failover's replacement and its draining predecessor). */
const handover = (a: SeenInstance, b: SeenInstance) => a.tags[TAG_REPLACES] === b.id || b.tags[TAG_REPLACES] === a.id;

export function census(input: CensusInput): Census {
  const instances = withChecks(input.listing.instances, input.checks, input.listing.at);
  const live = instances.filter(isLive);
  const holders = new Map<number, Holder[]>();
  const hold = (h: Holder) => holders.set(h.slot, [...(holders.get(h.slot) ?? []), h]);
  const untagged: SeenInstance[] = [];
  for (const instance of live) {
    const slot = slotOf(instance);
    if (slot === undefined) untagged.push(instance);
    else hold({ slot, instance, virtual: false });
  }
  // Workers of an older synkti carry no slot: they fill the lowest unheld slots in instance-id
  // order, so an upgrade (desired.json written for a running fleet) never launches a second fleet.
  // Past desired-1 they are surplus like any holder of a slot >= desired.
  untagged.sort((a, b) => (a.id < b.id ? -1 : 1));
  let next = 0;
  for (const instance of untagged) {
    while (holders.has(next)) next++;
    hold({ slot: next, instance, virtual: true });
  }

  const surplus = [...holders.values()].flat().filter((h) => h.slot >= input.desired);

  // Duplicates: walk each slot's holders in launch order, keeping the first; a later one that is no
  // handover with every kept holder retires (it is the extra launch). A failover's replacement and
  // its draining predecessor are both kept: the predecessor leaves by itself.
  const duplicates: Duplicate[] = [];
  for (const [slot, slotHolders] of holders) {
    if (slot >= input.desired || slotHolders.length < 2) continue;
    const kept: SeenInstance[] = [];
    for (const { instance } of [...slotHolders].sort((a, b) => byLaunch(a.instance, b.instance))) {
      const rival = kept.find((k) => !handover(k, instance));
      if (rival) duplicates.push({ slot, keep: rival.id, retire: instance.id });
      else kept.push(instance);
    }
  }

  // Judged at the listing's time, not now: the listing proves only that it had not served by then.
  const neverServed = [...holders.values()]
    .flat()
    .filter(
      (h) =>
        !hasServed(h.instance.tags) &&
        input.listing.at - h.instance.launchedAt > NEVER_SERVED_MS,
    );

  // An empty slot's cause is the most recent instance that carried it, in any state: the dead or
  // retired holder (its replacement inherits its type and zone). None seen: the generation (a slot
  // never filled, or a launch lost before it showed).
  const empty: EmptySlot[] = [];
  for (let slot = 0; slot < input.desired; slot++) {
    if (holders.has(slot)) continue;
    const last = instances.filter((i) => slotOf(i) === slot).sort(byLaunch).at(-1);
    empty.push(last ? { slot, cause: last.id, causeInstance: last } : { slot, cause: input.generation });
  }

  return { desired: input.desired, holders, empty, surplus, duplicates, neverServed, live };
}
