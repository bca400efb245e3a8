/**
 * Repair outcomes (`checkpoints/repair/<slot>-<cause>.json`) and the pause rule: when the last
 * PAUSE_AFTER_FAILURES replacements (after the operator's last desired.setAt) all failed to serve,
 * repair stops claiming. A crash loop on GPUs is the most expensive failure there is; the operator
 * fixes the cause and sets desired again (a new generation), which lifts the pause.
 */
import { z } from "zod";
import { parseBoundedJson } from "../core/bounded-json.js";
import type { Desired } from "../cluster/desired.js";
import { PAUSE_AFTER_FAILURES } from "./constants.js";

export const RepairOutcomeSchema = z.object({
  slot: z.number().int().min(0),
  cause: z.string().min(1).max(128),
  /** The replacement's instance id. */
  replacement: z.string().min(1).max(64),
  outcome: z.enum(["served", "failed"]),
  at: z.string().datetime(),
  /** Why it failed (or "served"): short, for `synkti status`. */
  reason: z.string().max(500),
});
export type RepairOutcome = z.infer<typeof RepairOutcomeSchema>;

/** An outcome record is a few hundred bytes; a reader refuses more (records are written by workers). */
export const OUTCOME_MAX_BYTES = 4096;

export interface PauseState {
  paused: boolean;
  /** The trailing run of failed outcomes after setAt (newest first), capped at the threshold. */
  failuresInARow: number;
  /** The newest failure after setAt, for the reason and the instance to read the logs of. */
  lastFailure?: RepairOutcome;
}

/** The parsed record, or the reason it is not one. */
export function parseOutcome(text: string): { outcome: RepairOutcome } | { problem: string } {
  const parsed = parseBoundedJson(text, RepairOutcomeSchema, OUTCOME_MAX_BYTES);
  return "value" in parsed ? { outcome: parsed.value } : parsed;
}

/**
 * The pause rule over the outcomes a member listed. Only outcomes after desired.setAt count: a new
 * desired (the operator's `--workers N --yes` after fixing the cause) is a fresh start. Ordered by
 * `at` (ties: cause, so every reader agrees); paused when the newest `threshold` all failed. One
 * success in between resets it: a cluster that sometimes loses a boot is not a crash loop.
 * No desired: never paused (repair is inactive anyway).
 */
export function pauseState(outcomes: readonly RepairOutcome[], desired: Desired | undefined, threshold = PAUSE_AFTER_FAILURES): PauseState {
  if (!desired) return { paused: false, failuresInARow: 0 };
  const since = Date.parse(desired.setAt);
  const recent = outcomes
    .filter((o) => Date.parse(o.at) > since)
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || (a.cause < b.cause ? 1 : a.cause > b.cause ? -1 : 0));
  let failuresInARow = 0;
  while (failuresInARow < recent.length && failuresInARow < threshold && recent[failuresInARow]!.outcome === "failed") failuresInARow++;
  const lastFailure = recent.find((o) => o.outcome === "failed");
  return { paused: failuresInARow >= threshold, failuresInARow, ...(lastFailure ? { lastFailure } : {}) };
}
