/** The repair's public face (issue 12): census, claims, order, ring, pause and the decision. */
export * from "./constants.js";
export type * from "./types.js";
export { census, parseSlot, withChecks, isLive, slotOf, seenInstance, LIVE_EC2_STATES, hasServed } from "./census.js";
export {
  ClaimBodySchema,
  CLAIM_MAX_BYTES,
  attemptCause,
  claimBody,
  slotClaimsPrefix,
  SLOT_CLAIMS_LISTED,
  accountedFor,
  CLOCK_TOLERANCE_MS,
  confirmClaim,
  claimName,
  nextAttempt,
  parseClaimKey,
  type NextAttempt,
} from "./claims.js";
export { rendezvousRank, rendezvousScore, claimDelayMs, watcherRing, type WatcherRing } from "./rank.js";
export { RepairOutcomeSchema, OUTCOME_MAX_BYTES, parseOutcome, pauseState, type PauseState } from "./pause.js";
export { decideRepair } from "./decide.js";
export { watchChecksDue, watchRecheckMs, type WatchInput } from "./watch.js";
