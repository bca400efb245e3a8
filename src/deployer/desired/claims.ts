/**
 * The launch's slot claims: before RunInstances, each slot it fills is claimed with the very name a
 * worker's repair would use (`checkpoints/claims/<slot>-<cause>`, If-None-Match: *), so a worker
 * that sees the same empty slot gets 412 and leaves it to the launch, and a slot a worker is
 * already repairing is left to that worker. Claims of a launch that was undone are removed, so the
 * next launch (or a worker) may fill the slot at once instead of after the stale time.
 */
import type { ObjectReader } from "../../aws/s3-objects.js";
import type { DesiredObjects } from "../desired/store.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { ProjectNames } from "../../infra/names.js";
import { claimBody, claimName, confirmClaim, parseClaimKey, SLOT_CLAIMS_LISTED, slotClaimsPrefix, slotOf, type ClaimSeen } from "../../repair/index.js";
import { claimFor, type SlotFill, type SlotView } from "./slots.js";
import { messageOf } from "../../core/errors.js";

export interface ClaimDeps {
  conditional: DesiredObjects;
  objects: ObjectReader;
  clock: Clock;
  log: Logger;
}

export interface ClaimOutcome {
  /** Slots this launch claimed (its to fill), with the claim's key. */
  claimed: Array<{ slot: number; key: string }>;
  /** Slots someone else is filling (a fresh claim, or one created between the listing and ours). */
  held: Array<{ slot: number; key: string }>;
}

/** A claim listing is bounded: a project has a claim per repair, a few per slot, not thousands. */
const MAX_CLAIMS_LISTED = 5000;

/**
 * Claims each slot as a worker's repair would: the next attempt the listed claims allow, created
 * with If-None-Match: *, then (after one more listing) confirmed against a rival claim on the same
 * slot named from another view (src/repair's confirmClaim: the older claim wins). A slot held or
 * lost this way is left to the other claimant; the launch fills the rest.
 */
export async function claimSlots(deps: ClaimDeps, names: ProjectNames, fills: SlotFill[], generation: string, claimer: string, view: SlotView["view"], signal?: AbortSignal): Promise<ClaimOutcome> {
  const outcome: ClaimOutcome = { claimed: [], held: [] };
  if (fills.length === 0) return outcome;
  const created: Array<{ slot: number; key: string; name: string }> = [];
  const slots = fills.map((f) => f.slot);
  const before = await listClaims(deps, names, slots, signal);
  for (const fill of fills) {
    const claim = claimFor(fill, generation, before, view);
    if (claim.kind === "held") {
      outcome.held.push({ slot: fill.slot, key: `${names.claimsPrefix}${claim.by}` });
      continue;
    }
    const key = names.claimKey(fill.slot, claim.cause);
    const body = JSON.stringify(claimBody(fill.slot, claim.cause, claim.attempt, claimer, deps.clock.now()));
    if ((await deps.conditional.putIfAbsent(names.bucket, key, body, signal)) === "created") created.push({ slot: fill.slot, key, name: claimName(names, fill.slot, claim.cause) });
    else outcome.held.push({ slot: fill.slot, key });
  }
  const after = created.length > 0 ? await listClaims(deps, names, created.map((c) => c.slot), signal) : [];
  for (const c of created) {
    if (confirmClaim(c.name, after, view, slotOf) === "launch") outcome.claimed.push({ slot: c.slot, key: c.key });
    else outcome.held.push({ slot: c.slot, key: c.key }); // an older rival claim: ours goes stale unused, as a worker's would
  }
  if (outcome.held.length > 0) deps.log.info({ held: outcome.held }, `slot${outcome.held.length === 1 ? "" : "s"} ${outcome.held.map((h) => h.slot).join(", ")} already being filled (claimed by a worker's repair or another launch): not launching there`);
  return outcome;
}

/** Slots listed at once when the whole listing is cut short. */
const SLOT_LISTINGS_AT_ONCE = 8;

/**
 * The claims of the slots being filled. One listing of every claim while they fit in it (the usual
 * case); claims are never removed by workers (every failover and repair leaves one), and S3 lists
 * them in name order, not by age, so a long-lived cluster's listing is cut short before the fresh
 * claims of higher slots: then each slot's own, as a worker lists them (its census and ours must
 * see the same claims, or both may launch into one slot).
 */
async function listClaims(deps: ClaimDeps, names: ProjectNames, slots: readonly number[], signal?: AbortSignal): Promise<ClaimSeen[]> {
  const parse = (objects: Array<{ key: string; lastModified?: Date | undefined }>) => objects.flatMap((o) => parseClaimKey(names, o.key, o.lastModified?.getTime() ?? 0) ?? []);
  const listing = await deps.objects.list(names.bucket, names.claimsPrefix, { maxKeys: MAX_CLAIMS_LISTED }, signal);
  if (listing === "no-bucket") return [];
  if (!listing.truncated) return parse(listing.objects);
  const claims: ClaimSeen[] = [];
  for (let i = 0; i < slots.length; i += SLOT_LISTINGS_AT_ONCE) {
    const lists = await Promise.all(slots.slice(i, i + SLOT_LISTINGS_AT_ONCE).map((slot) => deps.objects.list(names.bucket, slotClaimsPrefix(names, slot), { maxKeys: SLOT_CLAIMS_LISTED }, signal)));
    for (const list of lists) if (list !== "no-bucket") claims.push(...parse(list.objects));
  }
  return claims;
}

/** Best effort, after the undone launch's instances are confirmed gone; a claim left behind goes stale by itself. */
export async function releaseClaims(deps: ClaimDeps, names: ProjectNames, keys: string[]): Promise<void> {
  for (const key of keys) {
    try {
      await deps.conditional.remove(names.bucket, key);
    } catch (error) {
      deps.log.warn({ err: messageOf(error) }, `could not remove the claim s3://${names.bucket}/${key}; it goes stale by itself`);
    }
  }
}
