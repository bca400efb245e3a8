import { withDeadline, type Clock } from "../core/clock.js";
import { isSynktiError, messageOf } from "../core/errors.js";
import type { Finding, PreflightReport, Requirement, RequirementResult, Verdict } from "./types.js";

export interface EngineOptions {
  clock: Clock;
  /** Deadline for an observation that does not declare its own. */
  defaultTimeoutMs?: number;
  /**
   * No observation's deadline is shorter than this. The caller sets it above one AWS call's own
   * deadline, so an endpoint that does not answer is reported by the AWS layer (which names the
   * endpoint and the call) rather than as a bare "did not answer within".
   */
  minTimeoutMs?: number;
  signal?: AbortSignal;
  /** Receives each observation that was made (before its verdict), so an operation can act on what preflight saw. */
  onObserved?: (id: string, observation: unknown) => void;
}

type Outcome = { ok: true; finding: Finding } | { ok: false; observed: string; fix: string | null };

/**
 * Banker-style preflight: every observation starts at once (one slow or failing observation never
 * hides or delays the others), verdicts are then taken in dependency order, and a requirement whose
 * dependency did not pass is `blocked` rather than reported as a second failure.
 */
export async function runPreflight<Ctx>(
  requirements: Requirement<Ctx, any>[],
  ctx: Ctx,
  options: EngineOptions,
): Promise<PreflightReport> {
  const ordered = dependencyOrder(requirements);
  const started = options.clock.now();
  const outcomes = new Map<string, Promise<{ outcome: Outcome; durationMs: number }>>();
  for (const requirement of ordered) {
    outcomes.set(requirement.id, observeOne(requirement, ctx, options).then((outcome) => ({
      outcome,
      durationMs: options.clock.now() - started,
    })));
  }

  const results = new Map<string, RequirementResult>();
  for (const requirement of ordered) {
    const { outcome, durationMs } = await outcomes.get(requirement.id)!;
    const blockers = (requirement.dependsOn ?? []).filter((id) => {
      const status = results.get(id)?.status;
      return status !== "pass" && status !== "warn";
    });
    results.set(requirement.id, resultFor(requirement, outcome, blockers, durationMs));
  }
  const list = ordered.map((r) => results.get(r.id)!);
  return { verdict: overallVerdict(list), requirements: list };
}

async function observeOne<Ctx>(requirement: Requirement<Ctx>, ctx: Ctx, options: EngineOptions): Promise<Outcome> {
  const timeoutMs = Math.max(requirement.timeoutMs ?? options.defaultTimeoutMs ?? 10_000, options.minTimeoutMs ?? 0);
  try {
    const observation = await withDeadline(
      options.clock,
      timeoutMs,
      requirement.title,
      (signal) => requirement.observe(ctx, signal),
      options.signal,
    );
    options.onObserved?.(requirement.id, observation);
    return { ok: true, finding: requirement.verdict(observation, ctx) };
  } catch (error) {
    // A SynktiError knows what to run (credentials, throttling, region): keep it as the fix.
    const fix = isSynktiError(error) ? (error.remedy ?? null) : null;
    return { ok: false, observed: `could not observe: ${messageOf(error)}`, fix };
  }
}

function resultFor(requirement: Requirement<any>, outcome: Outcome, blockers: string[], durationMs: number): RequirementResult {
  const base = { id: requirement.id, title: requirement.title, durationMs };
  if (blockers.length > 0) {
    return { ...base, status: "blocked", observed: `not checked: needs ${blockers.join(", ")}`, fix: null, blockedBy: blockers };
  }
  if (!outcome.ok) return { ...base, status: "unknown", observed: outcome.observed, fix: outcome.fix, blockedBy: null };
  const { finding } = outcome;
  return {
    ...base,
    status: finding.status,
    observed: finding.observed,
    fix: finding.fix?.command ?? null,
    ...(finding.fix?.needs?.length ? { needs: finding.fix.needs } : {}),
    blockedBy: null,
  };
}

/** UNSAFE when anything failed (or is blocked by a failure); UNKNOWN when something could not be seen. */
export function overallVerdict(results: Pick<RequirementResult, "status">[]): Verdict {
  if (results.some((r) => r.status === "fail")) return "UNSAFE";
  if (results.some((r) => r.status === "unknown" || r.status === "blocked")) return "UNKNOWN";
  return "SAFE";
}

/** Stable topological order: declaration order, except that dependencies come first. */
export function dependencyOrder<T extends { id: string; dependsOn?: string[] }>(requirements: T[]): T[] {
  const byId = new Map(requirements.map((r) => [r.id, r]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const ordered: T[] = [];
  const visit = (r: T) => {
    if (done.has(r.id)) return;
    if (visiting.has(r.id)) throw new Error(`preflight requirement cycle through '${r.id}'`);
    visiting.add(r.id);
    for (const dep of r.dependsOn ?? []) {
      const target = byId.get(dep);
      if (!target) throw new Error(`requirement '${r.id}' depends on unknown '${dep}'`);
      visit(target);
    }
    visiting.delete(r.id);
    done.add(r.id);
    ordered.push(r);
  };
  requirements.forEach(visit);
  return ordered;
}
