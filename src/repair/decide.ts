/**
 * decideRepair(view) -> actions: the whole repair rule, pure. The worker lists, checks, claims and
 * launches; this says what to do with what it saw. Each rule's reason is next to it. Every member
 * runs the same rule on its own view; the claim's conditional write is what makes a launch happen
 * once, the order below only keeps the losers' 412s few.
 */
import { desiredGeneration } from "../cluster/desired.js";
import { TAG_REPLACES, TAG_SERVED_AT, TAG_STATE } from "../infra/names.js";
import { census, isLive, slotOf, withChecks } from "./census.js";
import { claimBody, nextAttempt } from "./claims.js";
import { pauseState } from "./pause.js";
import { claimDelayMs, rendezvousRank, watcherRing } from "./rank.js";
import type { Census, ClaimSeen, EmptySlot, RepairAction, RepairDecision, RepairOutcome, RepairView, SeenInstance } from "./types.js";

/** The noticed-map key of a never-served retirement (a claim's key is its bare name). */
const retireKey = (name: string) => `retire:${name}`;

export function decideRepair(view: RepairView): RepairDecision {
  // No desired.json: an older cluster, or one launched before this synkti. Repair needs the
  // operator's intent; without it, a survivor cannot tell a death from a scale-down.
  if (!view.desired) return { active: false, paused: false, actions: [], noticed: {}, note: "no cluster/desired.json: repair is off" };
  const desired = view.desired;
  const seen = withChecks(view.listing.instances, view.checks, view.listing.at);
  const c = census({ desired: desired.workers, generation: desiredGeneration(desired), listing: view.listing, checks: view.checks, now: view.now });
  const pause = pauseState(view.outcomes, desired);
  const base = { active: true, paused: pause.paused, census: c };
  const me = seen.find((i) => i.id === view.self);

  // A member that is leaving (retiring, failed, or dead to EC2) repairs nothing: its launch would
  // outlive its reason and its claim would hold the slot for CLAIM_STALE_MS.
  if (me && !isLive(me)) return { ...base, actions: [], noticed: {}, note: "this worker is leaving" };

  // The empty slots nobody is filling yet (no claim the view cannot account for).
  const open = c.empty.flatMap((empty) => {
    const next = nextAttempt(view.claims.seen, empty.slot, empty.cause, { at: view.listing.at, instances: seen }, slotOf);
    return next.kind === "claimable" ? [{ empty, next }] : [];
  });

  // Retire itself first and do nothing else: a member on its way out should not claim. A surplus
  // member stays while a slot below desired is empty in its view (unless repair is paused): a
  // scale-down that meets a death keeps its capacity, and a survivor that can repair (it may claim
  // the slot itself below), until its listing shows the slot held. A claim alone is not enough:
  // the claimed launch may die before it is ever listed, and the claim then holds the slot for
  // CLAIM_STALE_MS; the surplus member must not have left by then. Live stays <= desired + 1.
  const retire = selfRetirement(c, view.self, me, !pause.paused && c.empty.length > 0);
  if (retire) return { ...base, actions: [retire], noticed: {} };

  const dead = new Set(seen.filter((i) => !isLive(i)).map((i) => i.id));
  const members = [...new Set([...(view.members ?? c.live.map((i) => i.id)), view.self])].filter((id) => !dead.has(id));
  const ring = watcherRing(members);
  /**
   * This member's place in the order for `name`: its watcher place for a dead member, or its
   * rendezvous rank, whichever is earlier. `other` (a never-served instance) is not ranked: it
   * will not retire itself.
   */
  const place = (name: string, causeId: string | undefined, other?: string): number => {
    const rank = rendezvousRank(name, view.self, other ? members.filter((m) => m !== other) : members);
    const watcher = causeId ? ring.watchersOf(causeId).indexOf(view.self) : -1;
    return watcher >= 0 ? Math.min(watcher, rank) : rank;
  };

  const actions: RepairAction[] = [];
  const noticed: Record<string, number> = {};
  let wakeAt: number | undefined;
  /** Whether this member's turn for `key` has come (remembering when it was first seen). */
  const due = (key: string, order: number): boolean => {
    const since = view.noticed[key] ?? view.now;
    noticed[key] = since;
    const at = since + claimDelayMs(order);
    if (view.now >= at) return true;
    wakeAt = Math.min(wakeAt ?? at, at);
    return false;
  };

  // Never served: retired (TerminateInstances) by the repairer of its slot, in the order of the
  // claim that will follow (`<slot>-<its id>`), so one member does it, not all. Also while paused:
  // an instance that does not serve only bills. The worker re-reads the instance first and retires
  // it only if it still has no SynktiServedAt (the listing may predate its first serving).
  for (const h of c.neverServed) {
    if (h.instance.id === view.self) continue;
    const name = `${h.slot}-${h.instance.id}`;
    if (due(retireKey(name), place(name, undefined, h.instance.id))) actions.push({ kind: "retire-other", instanceId: h.instance.id, slot: h.slot, reason: "never-served" });
  }

  if (pause.paused) return { ...base, actions, noticed, ...(wakeAt !== undefined ? { wakeAt } : {}), note: "repair paused: the last replacements failed to serve" };

  for (const { empty, next } of open) {
    const name = `${empty.slot}-${next.cause}`;
    if (!due(name, place(name, empty.causeInstance?.id))) continue;
    const missing = missingOutcome(empty, view.claims.seen, view.outcomes, view.now);
    actions.push({
      kind: "claim-launch",
      slot: empty.slot,
      cause: next.cause,
      attempt: next.attempt,
      name,
      body: claimBody(empty.slot, next.cause, next.attempt, view.self, view.now),
      doomed: {
        slot: empty.slot,
        launchId: name,
        ...(empty.causeInstance ? { instanceId: empty.causeInstance.id } : {}),
        ...(empty.causeInstance?.instanceType ? { instanceType: empty.causeInstance.instanceType } : {}),
        ...(empty.causeInstance?.zone ? { zone: empty.causeInstance.zone } : {}),
      },
      ...(missing ? { missingOutcome: missing } : {}),
    });
  }
  return { ...base, actions, noticed, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}

/**
 * Surplus (a slot >= desired: a scale-down; not while a slot below desired is empty) or the later of
 * two holders of one slot that are no handover (an extra launch): this member drains through the
 * load balancer and terminates itself (after any launch of its own in flight).
 * Only ever itself: every member judges itself, so a stale view can never make one member retire
 * another that is serving. A draining member is skipped: it is leaving through its failover.
 * For a duplicate the worker re-reads `keep` first (DescribeInstances InstanceIds=[keep]) and
 * retires only if it is still alive, so a keeper that died since the listing does not take both.
 */
function selfRetirement(c: Census, self: string, me: SeenInstance | undefined, slotsEmpty: boolean): RepairAction | undefined {
  if (!me || me.tags[TAG_STATE] === "draining") return undefined;
  const surplus = c.surplus.find((h) => h.instance.id === self);
  if (surplus && !slotsEmpty) return { kind: "retire-self", reason: "surplus", slot: surplus.slot };
  const duplicate = c.duplicates.find((d) => d.retire === self);
  if (duplicate) return { kind: "retire-self", reason: "duplicate", slot: duplicate.slot, keep: duplicate.keep };
  return undefined;
}

/**
 * The outcome an earlier claimant never wrote: the empty slot's cause is a replacement that never
 * served (no SynktiServedAt) and was launched by a claim on this slot (its SynktiReplaces names the
 * claim's cause base, or the claim itself for a generation's fill), with no record yet. Its
 * claimant died or lost track; the pause rule must still count the failure.
 */
function missingOutcome(empty: EmptySlot, claims: readonly ClaimSeen[], outcomes: readonly RepairOutcome[], now: number): RepairOutcome | undefined {
  const failed = empty.causeInstance;
  if (!failed || failed.tags[TAG_SERVED_AT] !== undefined) return undefined;
  const replaced = failed.tags[TAG_REPLACES];
  if (!replaced) return undefined;
  const launcher = claims
    .filter((c) => c.slot === empty.slot && (c.base === replaced || c.name === replaced) && c.at <= failed.launchedAt)
    .sort((a, b) => b.at - a.at)[0];
  if (!launcher || outcomes.some((o) => o.slot === empty.slot && o.cause === launcher.cause)) return undefined;
  return {
    slot: empty.slot,
    cause: launcher.cause,
    replacement: failed.id,
    outcome: "failed",
    at: new Date(now).toISOString(),
    reason: `never served: EC2 state ${failed.state}${failed.tags[TAG_STATE] ? `, SynktiState ${failed.tags[TAG_STATE]}` : ""}`,
  };
}
