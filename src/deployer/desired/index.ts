// The desired size (cluster/desired.json) and the slots a launch fills: written by the deployer only.
export { readDesired, writeDesired, restoreDesired, describeRead, type DesiredRead, type DesiredWrite, type DesiredDeps, type WriteOptions } from "./store.js";
export { decideDesired, type DesiredDecision } from "./rule.js";
export { slotView, seenInstances, claimFor, type SlotView, type SlotFill, type SlotClaim } from "./slots.js";
export { claimSlots, releaseClaims, type ClaimDeps, type ClaimOutcome } from "./claims.js";
export { undoIntent } from "./undo.js";
