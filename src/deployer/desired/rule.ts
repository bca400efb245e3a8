/**
 * How a launch's `--workers` becomes the desired size (pure, table-tested):
 * - given: it is the new desired size, written even when equal (a new setAt is a new generation:
 *   that is how a paused repair is resumed after a fix);
 * - not given, desired.json set: kept as it is (a re-run never undoes a scale the operator made);
 * - not given, no desired.json (a new project, or one launched by an older synkti): 1, as launches
 *   always defaulted, and nothing is written (repair stays inactive until `--workers` says a size).
 * Lowering retires serving workers, so it is asked on a terminal or needs `--yes`. Lower than what?
 * Than the desired size when there is one; otherwise than the live workers (an older cluster's),
 * which the new size would make surplus just the same.
 */
import type { Desired } from "../../cluster/desired.js";

export interface DesiredDecision {
  workers: number;
  /** Where `workers` came from. */
  source: "flag" | "desired" | "default";
  /** Write desired.json (only when --workers was given). */
  write: boolean;
  /** Lowering: from what to what; needs a yes. */
  lowering: { from: number; to: number } | null;
}

export function decideDesired(input: { flag: number | undefined; current: Desired | null; live: number }): DesiredDecision {
  const { flag, current, live } = input;
  if (flag === undefined) {
    return current ? { workers: current.workers, source: "desired", write: false, lowering: null } : { workers: 1, source: "default", write: false, lowering: null };
  }
  const from = current ? current.workers : live;
  return { workers: flag, source: "flag", write: true, lowering: flag < from ? { from, to: flag } : null };
}
