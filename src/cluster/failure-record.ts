/**
 * What a worker leaves in its project's bucket and the deployer reads back: one wire contract, two
 * sides (DESIGN: deployer/ and worker/ never import each other; they share what they both speak
 * here). The worker's agent writes it (src/worker/trace), and so does user-data when the agent
 * never ran or will not serve (scripts/user-data.sh.tpl, the same fields and bounds); the deployer
 * reads it as untrusted input (src/deployer/logs: bounded read, strict parse, cleaned for a terminal).
 */
export { INSTANCE_ID } from "./instance-id.js";

/** `checkpoints/logs/<instance id>.json` (key: ProjectNames.failureRecordKey). */
export interface FailureRecord {
  instanceId: string;
  /** When it failed (ISO 8601, UTC). */
  at: string;
  /**
   * The code the boot ended with: the agent's (1 UNSAFE or gave up, 3 could not observe, a crash's)
   * or, when user-data gave up before the agent ran (a refused checksum, bad weights), user-data's 1.
   * null only when a record names none (the reader accepts that from an older or odd writer).
   */
  exitCode: number | null;
  /** One line: why. */
  reason: string;
}

/** A reason stays one readable line (status shows it), however many requirements failed. */
export const REASON_MAX_CHARS = 2000;

/** How much of its boot log a worker leaves at `checkpoints/logs/<instance id>.log`, and all a reader reads of it. */
export const LOG_TAIL_BYTES = 64 * 1024;

/** Cuts a reason to REASON_MAX_CHARS, marking the cut. */
export function clipReason(reason: string): string {
  return reason.length <= REASON_MAX_CHARS ? reason : `${reason.slice(0, REASON_MAX_CHARS - 1)}…`;
}
