/**
 * Which slots a launch fills and which workers a lower size makes surplus, from the project's
 * listing, by the same census the workers run (src/repair): the deployer and every worker then
 * agree on what is empty, what each empty slot's claim is named, and who retires. Pure.
 */
import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { isStopping } from "../../cluster/membership.js";
import { census, nextAttempt, seenInstance, slotOf, type ClaimSeen, type SeenInstance } from "../../repair/index.js";

/** An empty slot the launch fills: lowest first. `causeInstance`: the last instance that carried it (else the claim is named after the generation). */
export interface SlotFill {
  slot: number;
  causeInstance?: string;
}

export interface SlotView {
  /** Every empty slot below the desired size, lowest first. */
  fill: SlotFill[];
  /** Who holds which slot now (`virtual`: an untagged worker of an older synkti, placed by instance-id order). */
  holders: Array<{ slot: number; instanceId: string; virtual: boolean }>;
  /** Holders of a slot at or above the desired size: each drains and terminates itself. */
  surplus: Array<{ slot: number; instanceId: string }>;
  /** The listing the census read, for judging claims against it (a claim its instance accounts for holds nothing). */
  view: { at: number; instances: SeenInstance[] };
}

/** The instances as the census reads them (the workers' own mapping: both judge alike). */
export function seenInstances(instances: readonly InstanceSummary[]): SeenInstance[] {
  return instances.map(seenInstance);
}

/** A live worker that `down` is stopping holds no slot any more (it ends in a moment); a dead one still names a cause. */
const leaving = (i: InstanceSummary) => isStopping(i.tags) && (i.state === "pending" || i.state === "running");

/**
 * `instances`: the project's workers in every state AWS still lists (a terminated one names the
 * cause of its empty slot). `generation` only names causes; the launch names its claims afresh
 * after writing the desired size (claimFor).
 */
export function slotView(instances: readonly InstanceSummary[], desired: number, now: number): SlotView {
  // The whole listing judges claims (an instance launched after a claim accounts for it, stopped or not).
  const view = { at: now, instances: seenInstances(instances) };
  const c = census({ desired, generation: "", listing: { at: now, instances: seenInstances(instances.filter((i) => !leaving(i))) }, now });
  const holders = [...c.holders.values()].flat().map((h) => ({ slot: h.slot, instanceId: h.instance.id, virtual: h.virtual }));
  return {
    fill: c.empty.map((e) => ({ slot: e.slot, ...(e.causeInstance ? { causeInstance: e.causeInstance.id } : {}) })).sort((a, b) => a.slot - b.slot),
    holders: holders.filter((h) => h.slot < desired).sort((a, b) => a.slot - b.slot || a.instanceId.localeCompare(b.instanceId)),
    surplus: c.surplus.map((h) => ({ slot: h.slot, instanceId: h.instance.id })).sort((a, b) => a.slot - b.slot || a.instanceId.localeCompare(b.instanceId)),
    view,
  };
}

export type SlotClaim =
  /** Claim this name (`<slot>-<cause>`) with If-None-Match: *, then launch. */
  | { slot: number; kind: "claim"; cause: string; attempt: number }
  /** Someone (a worker's repair, another deployer) holds a fresh claim on it (`by`: its name): leave the slot to them. */
  | { slot: number; kind: "held"; by: string };

/**
 * The claim a launch makes for an empty slot: the one a worker's census would make (cause: the last
 * instance that carried the slot, else the desired generation), at the next attempt the listed
 * claims allow, so a worker never launches into a slot the deployer is filling, nor the reverse.
 */
export function claimFor(fill: SlotFill, generation: string, claims: readonly ClaimSeen[], view: SlotView["view"]): SlotClaim {
  const base = fill.causeInstance ?? generation;
  const next = nextAttempt(claims, fill.slot, base, view, slotOf);
  return next.kind === "held" ? { slot: fill.slot, kind: "held", by: next.by } : { slot: fill.slot, kind: "claim", cause: next.cause, attempt: next.attempt };
}
