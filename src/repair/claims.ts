/**
 * Claims: `checkpoints/claims/<slot>-<cause>`, created with PutObject If-None-Match: *, so of all
 * the members that try one key exactly one gets "created" and launches; the others get 412 and do
 * nothing. A claim whose launch never produced a holder (its claimant died) goes stale; the next
 * attempt is a new key every member computes alike from the keys it lists.
 *
 * Views differ (listings of different ages), so two members may name one empty slot's cause
 * differently (one saw an instance come and go that the other never saw). Two rules make that
 * harmless, both over the claims of the whole slot (ListObjectsV2 on `claims/<slot>-`):
 * - a claim on the slot that the view cannot account for (no instance with that slot launched at
 *   or after it) holds the slot, whatever its cause, until it is CLAIM_STALE_MS older than the view;
 * - after creating its claim, a claimant launches only when no other such claim on the slot is as
 *   old as its own or older (`confirmClaim`).
 */
import { z } from "zod";
import type { ProjectNames } from "../infra/names.js";
import { CLAIM_STALE_MS } from "./constants.js";
import type { ClaimSeen, SeenInstance } from "./types.js";
import { parseSlot } from "./slot.js";

/** The claim's body: for people and `synkti status`; the decision reads only key and LastModified. */
export const ClaimBodySchema = z.object({
  slot: z.number().int().min(0),
  cause: z.string().min(1).max(128),
  claimer: z.string().min(1).max(64),
  at: z.string().datetime(),
  attempt: z.number().int().min(1),
});
export type ClaimBody = z.infer<typeof ClaimBodySchema>;

/** A claim body is a few dozen bytes; a reader refuses more. */
export const CLAIM_MAX_BYTES = 1024;

type ClaimNames = Pick<ProjectNames, "claimKey" | "claimsPrefix">;

/** `<base>` for attempt 1, `<base>.<n>` after. */
export function attemptCause(base: string, attempt: number): string {
  return attempt <= 1 ? base : `${base}.${attempt}`;
}

/** The claim's object name below claimsPrefix, `<slot>-<cause>` (ProjectNames.claimKey's tail). */
export function claimName(names: ClaimNames, slot: number, cause: string): string {
  return names.claimKey(slot, cause).slice(names.claimsPrefix.length);
}

/** Causes are instance ids (`i-0abc`) or generations (`d1732871234000`), then `.<attempt>`. */
const CAUSE = /^([A-Za-z0-9][A-Za-z0-9-]{0,100})(?:\.([1-9][0-9]{0,5}))?$/;

/** Parses a listed key (full, with claimsPrefix); undefined for anything that is not a claim. */
export function parseClaimKey(names: ClaimNames, key: string, lastModified: number): ClaimSeen | undefined {
  if (!key.startsWith(names.claimsPrefix)) return undefined;
  const name = key.slice(names.claimsPrefix.length);
  const dash = name.indexOf("-");
  if (dash < 1) return undefined;
  const slot = parseSlot(name.slice(0, dash));
  const match = CAUSE.exec(name.slice(dash + 1));
  if (slot === undefined || !match) return undefined;
  const attempt = match[2] ? Number(match[2]) : 1;
  if (match[2] && attempt < 2) return undefined; // `<base>.1` is never written: attempt 1 is `<base>`
  return { name, slot, cause: name.slice(dash + 1), base: match[1]!, attempt, at: lastModified };
}

/**
 * How many of one slot's claims a member lists (`slotClaimsPrefix`), worker and launch alike: a
 * claim is never deleted by a worker (every failover and repair of the slot leaves one) and S3
 * lists them by name, not age, so a lower cap would hide a fresh claim of a slot with a long past
 * (a few spot notices a day reach 1,000 within a year). Listed only while the slot is empty.
 */
export const SLOT_CLAIMS_LISTED = 10_000;

/** The prefix that lists every claim of one slot (`claims/1-` never lists slot 10's `claims/10-`). */
export function slotClaimsPrefix(names: ClaimNames, slot: number): string {
  return `${names.claimsPrefix}${slot}-`;
}

/**
 * LaunchTime (EC2) and LastModified (S3) are two services' clocks, each to the second: a launch
 * made in the second after its claim may read a second or two earlier. No other launch into the
 * slot can be that close before a claim (the slot was empty when it was claimed), except the claim's
 * own cause (see accountedFor).
 */
export const CLOCK_TOLERANCE_MS = 2_000;

/**
 * Whether the view accounts for a claim: an instance with its slot launched at or after it (its
 * launch, seen). Never the instance the claim replaces (its cause): one that died within the clock
 * tolerance of its launch (a spot request ended at once, a crash at boot) would otherwise account
 * for its own repair's claim, and the next attempt would launch a second replacement beside the
 * first. A miss errs on the safe side: the claim holds the slot until it is stale.
 */
export function accountedFor(claim: ClaimSeen, instances: readonly SeenInstance[], slotOf: (i: SeenInstance) => number | undefined): boolean {
  return instances.some((i) => i.id !== claim.base && slotOf(i) === claim.slot && i.launchedAt >= claim.at - CLOCK_TOLERANCE_MS);
}

export type NextAttempt =
  /** Nobody holds the slot: this attempt of the cause may be claimed. */
  | { kind: "claimable"; cause: string; attempt: number }
  /** A claim the view cannot account for holds the slot until `staleAt` (a view taken then frees it). */
  | { kind: "held"; by: string; staleAt: number };

/**
 * The next attempt for a slot whose cause base is `base`, from the slot's claims and the view
 * (its listing's time `viewAt` and instances). Staleness is judged at the view's time, not at now:
 * a member whose listing is older than a replacement's launch must not take its claim for failed.
 */
export function nextAttempt(
  claims: readonly ClaimSeen[],
  slot: number,
  base: string,
  view: { at: number; instances: readonly SeenInstance[] },
  slotOf: (i: SeenInstance) => number | undefined,
  staleMs = CLAIM_STALE_MS,
): NextAttempt {
  const onSlot = claims.filter((c) => c.slot === slot);
  const holding = onSlot
    .filter((c) => c.at > view.at - staleMs && !accountedFor(c, view.instances, slotOf))
    .sort((a, b) => b.at - a.at || (a.name < b.name ? -1 : 1));
  if (holding[0]) return { kind: "held", by: holding[0].name, staleAt: holding[0].at + staleMs };
  const last = Math.max(0, ...onSlot.filter((c) => c.base === base).map((c) => c.attempt));
  const attempt = last + 1;
  return { kind: "claimable", cause: attemptCause(base, attempt), attempt };
}

/**
 * After its claim was created: launch, or back off because another claim on the slot (another
 * cause, named from another view) is as old as ours or older. Whoever listed before the other's
 * write saw only its own and launches; the other then sees an older claim and backs off. Equal
 * LastModified (same second) both back off when each sees the other: safe, and the slot is
 * claimed again once both are stale (rare: two views naming one slot differently in one second).
 */
export function confirmClaim(
  mine: string,
  claims: readonly ClaimSeen[],
  view: { at: number; instances: readonly SeenInstance[] },
  slotOf: (i: SeenInstance) => number | undefined,
  staleMs = CLAIM_STALE_MS,
): "launch" | "back-off" {
  const own = claims.find((c) => c.name === mine);
  if (!own) return "launch"; // listing lag on our own write: nobody older was seen either
  const rival = claims.some(
    (c) => c.slot === own.slot && c.name !== mine && c.at <= own.at && c.at > view.at - staleMs && !accountedFor(c, view.instances, slotOf),
  );
  return rival ? "back-off" : "launch";
}

/** The body to write with the claim. */
export function claimBody(slot: number, cause: string, attempt: number, claimer: string, now: number): ClaimBody {
  return { slot, cause, claimer, at: new Date(now).toISOString(), attempt };
}
