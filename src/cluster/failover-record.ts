import { z } from "zod";
import { INSTANCE_ID } from "./instance-id.js";

/**
 * The failover timeline as it is stored in `checkpoints/failovers/<doomed id>.json`: written by the
 * doomed worker (src/worker/failover/timeline-record.ts), completed by its replacement (HEALTH, after
 * a hand-over) and read by `synkti status`. One schema for both sides, so what a worker rewrites is
 * what the deployer believes.
 */
export const PHASE_NAMES = ["drain", "select", "spawn", "health"] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** A timeline is a few hundred bytes to a few KiB (details are short); anything past this is not one. */
export const FAILOVER_RECORD_MAX_BYTES = 32 * 1024;

const time = z.string().max(64).refine((s) => !Number.isNaN(Date.parse(s)), "not a time").nullable();
const PhaseSchema = z.object({ state: z.string().min(1).max(32), startedAt: time, endedAt: time, detail: z.string().max(4000).nullable() });
export const FailoverRecordSchema = z.object({
  doomed: z.string().regex(INSTANCE_ID, "doomed is not an EC2 instance id"),
  status: z.string().min(1).max(32),
  trigger: z.string().max(64).nullable(),
  deadlineAt: time,
  replacement: z.string().regex(INSTANCE_ID, "replacement is not an EC2 instance id").nullable(),
  phases: z.object({ drain: PhaseSchema, select: PhaseSchema, spawn: PhaseSchema, health: PhaseSchema }),
});
export type StoredFailoverRecord = z.infer<typeof FailoverRecordSchema>;
