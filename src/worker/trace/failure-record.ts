import { clipReason, type FailureRecord } from "../../cluster/failure-record.js";
import type { PreflightReport } from "../../preflight/types.js";

export type { FailureRecord };

/**
 * What a worker that ends itself leaves at `checkpoints/logs/<instance id>.json` (the shape shared
 * with user-data and the deployer: src/cluster/failure-record.ts). No secrets: a reason is what the
 * agent already logged.
 */
export function failureRecord(instanceId: string, at: number, exitCode: number, reason: string): FailureRecord {
  return { instanceId, at: new Date(at).toISOString(), exitCode, reason: clipReason(reason.replace(/\s+/g, " ").trim()) };
}

/** "worker preflight UNSAFE: weights: <observed>; instance-role: <observed>". */
export function preflightReason(report: PreflightReport): string {
  const bad = report.requirements.filter((r) => r.status === (report.verdict === "UNKNOWN" ? "unknown" : "fail"));
  return `worker preflight ${report.verdict}: ${bad.map((r) => `${r.id}: ${r.observed}`).join("; ") || "no requirement said why"}`;
}
