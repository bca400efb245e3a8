import type { PreflightReport } from "../../preflight/types.js";

/**
 * What a worker that ends itself leaves at `checkpoints/logs/<instance id>.json` (user-data writes
 * the same shape when the agent never started: scripts/user-data.sh.tpl). `synkti logs` prints it,
 * `synkti status` lists recent ones. No secrets: a reason is what the agent already logged.
 */
export interface FailureRecord {
  instanceId: string;
  /** ISO 8601, UTC. */
  at: string;
  /** The exit code the agent ends with (the contract's: 1 UNSAFE or given up, 3 could not observe). */
  exitCode: number;
  /** One line: why. */
  reason: string;
}

/** A reason stays one readable line (status shows it), however many requirements failed. */
const MAX_REASON = 2000;

export function failureRecord(instanceId: string, at: number, exitCode: number, reason: string): FailureRecord {
  const line = reason.replace(/\s+/g, " ").trim();
  return { instanceId, at: new Date(at).toISOString(), exitCode, reason: line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line };
}

/** "worker preflight UNSAFE: weights: <observed>; instance-role: <observed>". */
export function preflightReason(report: PreflightReport): string {
  const bad = report.requirements.filter((r) => r.status === (report.verdict === "UNKNOWN" ? "unknown" : "fail"));
  return `worker preflight ${report.verdict}: ${bad.map((r) => `${r.id}: ${r.observed}`).join("; ") || "no requirement said why"}`;
}
