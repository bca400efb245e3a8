/**
 * Repair outcomes (`checkpoints/repair/<slot>-<cause>.json`) and the pause rule: when the last
 * PAUSE_AFTER_FAILURES replacements (after the operator's last desired.setAt) all failed to serve,
 * repair stops claiming. A crash loop on GPUs is the most expensive failure there is; the operator
 * fixes the cause and sets desired again (a new generation), which lifts the pause.
 */
import { z } from "zod";
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

/** An outcome record is a few hundred bytes; a reader refuses more. */
export const OUTCOME_MAX_BYTES = 4096;

export interface PauseState {
  paused: boolean;
  /** The failures counted (the trailing run of failed outcomes after setAt). */
  failuresInARow: number;
  /** The newest failure after setAt, for the reason and the instance to read the logs of. */
  lastFailure?: RepairOutcome;
}

/** The parsed record, or the reason it is not one. */
export function parseOutcome(text: string): { outcome: RepairOutcome } | { problem: string } {
  throw new Error("not implemented");
}

/** The pause rule over the outcomes a member listed. No desired: never paused (repair is off anyway). */
export function pauseState(outcomes: readonly RepairOutcome[], desired: Desired | undefined, threshold = PAUSE_AFTER_FAILURES): PauseState {
  throw new Error("not implemented");
}
