/**
 * The preflight contract (shared/INTERFACE.md). A requirement is one thing an operation depends on:
 * `observe` does the I/O (and only it), `verdict` is pure, the fix is the exact command to run.
 */
export type Status = "pass" | "fail" | "warn" | "blocked" | "skipped" | "unknown";
export type Verdict = "SAFE" | "UNSAFE" | "UNKNOWN";

export interface Fix {
  /** One shell command line, usually starting with `synkti`; placeholders in angle brackets. */
  command: string;
  /** Placeholders the operator must fill in, named without brackets, e.g. ["weights-dir"]. */
  needs?: string[];
}

export interface Finding {
  status: Exclude<Status, "blocked" | "unknown">;
  /** What was seen, in words an operator understands. */
  observed: string;
  fix?: Fix;
}

export interface Requirement<Ctx, Obs = unknown> {
  id: string;
  /** What is needed, e.g. "orchestrator binary in S3". */
  title: string;
  /** Requirements whose failure makes this one meaningless: it is then `blocked`, not failed twice. */
  dependsOn?: string[];
  /** Deadline of the observation; the engine default applies when unset. */
  timeoutMs?: number;
  observe(ctx: Ctx, signal: AbortSignal): Promise<Obs>;
  verdict(observation: Obs, ctx: Ctx): Finding;
}

export interface RequirementResult {
  id: string;
  title: string;
  status: Status;
  observed: string;
  fix: string | null;
  needs?: string[];
  blockedBy: string[] | null;
  durationMs: number;
}

export interface PreflightReport {
  verdict: Verdict;
  requirements: RequirementResult[];
}
