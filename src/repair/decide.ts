/**
 * decideRepair(view) -> actions: the whole repair rule, pure. The worker lists, checks and claims;
 * this says what to do with what it saw. Each rule's reason is next to it.
 */
import type { RepairDecision, RepairView } from "./types.js";

export function decideRepair(view: RepairView): RepairDecision {
  throw new Error("not implemented");
}
