/**
 * Claims: `checkpoints/claims/<slot>-<cause>`, created with PutObject If-None-Match: *, so of all
 * the members that try one key exactly one gets "created" and launches; the others get 412 and do
 * nothing. A claim whose launch never produced a holder (its claimant died) goes stale; the next
 * attempt is a new key every member computes alike from the keys it lists.
 */
import { z } from "zod";
import type { ProjectNames } from "../infra/names.js";
import { CLAIM_STALE_MS } from "./constants.js";
import type { ClaimSeen } from "./types.js";

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

/** Parses a listed key (full, with claimsPrefix); undefined for anything that is not a claim. */
export function parseClaimKey(names: ClaimNames, key: string, lastModified: number): ClaimSeen | undefined {
  throw new Error("not implemented");
}

/** The prefix that lists every attempt of one slot's cause (then filtered by parseClaimKey). */
export function claimListPrefix(names: ClaimNames, slot: number, base: string): string {
  return names.claimKey(slot, base);
}

export type NextAttempt =
  /** Nobody has claimed it, or every attempt is stale: this cause may be claimed. */
  | { kind: "claimable"; cause: string; attempt: number }
  /** A fresh attempt exists: someone is launching; do nothing. */
  | { kind: "held"; cause: string; attempt: number; staleAt: number };

/**
 * The next attempt for a slot's cause base, from the claims listed at `listedAt`. The latest attempt
 * is stale only when the listing that still shows the slot empty was taken CLAIM_STALE_MS after the
 * claim: staleness is judged at the view's time, not at `now`, so a member whose instance listing
 * is older than the replacement's launch never takes the claim for failed.
 */
export function nextAttempt(claims: readonly ClaimSeen[], slot: number, base: string, viewAt: number, staleMs = CLAIM_STALE_MS): NextAttempt {
  throw new Error("not implemented");
}

/** The body to write with the claim. */
export function claimBody(slot: number, cause: string, attempt: number, claimer: string, now: number): ClaimBody {
  return { slot, cause, claimer, at: new Date(now).toISOString(), attempt };
}
