import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { runWorkerPreflight } from "../../preflight/worker/index.js";
import type { PreflightReport } from "../../preflight/types.js";
import type { WorkerOptions } from "../options.js";
import type { WorkerDeps, WorkerRun } from "../run-worker.js";

/** How long a booting worker keeps asking before an UNKNOWN preflight is final. */
export const BOOT_PATIENCE_MS = 60_000;

/** The worker preflight, asked again while it cannot observe (see retryWhileUnknown). */
export function patientPreflight(deps: WorkerDeps, options: WorkerOptions, run: WorkerRun) {
  const attempt = () =>
    runWorkerPreflight(
      { clients: deps.clients, imds: deps.imds, clock: deps.clock, ...(run.signal ? { signal: run.signal } : {}) },
      { ...options, verdict: run.verdict, self: deps.self, envPath: deps.envPath },
    );
  return retryWhileUnknown(attempt, { clock: deps.clock, log: deps.log, signal: run.signal });
}

/**
 * Right after boot, IMDS, instance-profile credentials and a loaded machine can be slow: an UNKNOWN
 * (could not observe) verdict is asked again with backoff (2, 4, 8, 15 s ...) for `patienceMs`,
 * since giving up leaves an idle instance billing. UNSAFE is an answer, not a delay: final at once.
 */
export async function retryWhileUnknown<T extends { report: PreflightReport }>(
  attempt: () => Promise<T>,
  opts: { clock: Clock; log: Logger; signal?: AbortSignal; patienceMs?: number },
): Promise<T> {
  const patienceMs = opts.patienceMs ?? BOOT_PATIENCE_MS;
  const started = opts.clock.now();
  for (let n = 1; ; n++) {
    const outcome = await attempt();
    const waitMs = Math.min(2_000 * 2 ** (n - 1), 15_000);
    const final = outcome.report.verdict !== "UNKNOWN" || opts.clock.now() - started + waitMs > patienceMs;
    if (final || opts.signal?.aborted) return outcome;
    const unknown = outcome.report.requirements.filter((r) => r.status === "unknown").map((r) => r.id);
    opts.log.warn({ attempt: n, unknown }, `worker preflight could not observe ${unknown.join(", ")}; asking again in ${waitMs / 1000} s`);
    try {
      await opts.clock.sleep(waitMs, opts.signal);
    } catch {
      return outcome; // stopped while waiting
    }
  }
}
