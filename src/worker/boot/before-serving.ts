import path from "node:path";
import { EXIT, exitCodeFor } from "../../core/exit-codes.js";
import type { WorkerContext } from "../../preflight/worker/index.js";
import { modelFolderRefusal, modelServerRunAs, systemRunAsDeps, type RunAs } from "../model-server/run-as.js";
import type { WorkerOptions } from "../options.js";
import type { WorkerDeps, WorkerOutcome, WorkerRun } from "../run-worker.js";
import type { WorkerReporter } from "../state/reporter.js";
import { preflightReason } from "../trace/failure-record.js";
import { asSynktiError, fetchWorkerWeights, wantsFetch } from "../weights/index.js";
import { patientPreflight } from "./patient-preflight.js";

/**
 * The exit code each way of ending itself leads to (the contract's, as src/cli/commands/worker.ts
 * exits), written into the failure record: 1 UNSAFE or given up, 3 could not observe.
 */
export const FAILURE_EXIT_CODES = { unsafe: EXIT.unsafe, unknown: EXIT.unobservable, "gave-up": EXIT.unsafe } as const;

/** Everything before the worker may serve passed: what serving needs from it. */
export interface ReadyToServe {
  context: WorkerContext;
  /** The model server's own user (the agent runs as root), or undefined: the agent's user. */
  runAs: RunAs | undefined;
}

/**
 * The steps before anything serves, each able to end the worker: the weights (user-data launched it
 * with a pinned manifest: fetched and verified, so the preflight then checks them on disk and no
 * model server starts before every byte is verified), the model folder readable by the model
 * server's user, and the preflight (asked again while it cannot observe). An end of its own making
 * leaves a failure record; a stop while booting is just "stopped".
 */
export async function beforeServing(deps: WorkerDeps, options: WorkerOptions, run: WorkerRun, reporter: WorkerReporter | undefined): Promise<{ ended: WorkerOutcome } | ReadyToServe> {
  const { clock, log } = deps;
  const stopped = (): { ended: WorkerOutcome } => {
    reporter?.state("retiring"); // stopped while booting: nothing was served
    return { ended: { kind: "stopped" } };
  };
  if (wantsFetch(options)) {
    try {
      await fetchWorkerWeights({ clients: deps.clients, clock, log: log.child({ component: "weights" }) }, options, run.signal);
    } catch (caught) {
      if (run.signal?.aborted) return stopped();
      const error = asSynktiError(caught);
      log.error({ code: error.code, remedy: error.remedy }, `weights refused: ${error.message}`);
      await reporter?.fail(exitCodeFor(error), `weights: ${error.message}${error.remedy ? ` (fix: ${error.remedy})` : ""}`, options.shutdownFlushMs);
      return { ended: { kind: "refused", error } };
    }
  }
  // vLLM runs as its own user when the agent is root: it must be able to open the folder (run-as.ts).
  const runAs = modelServerRunAs(deps.users ?? systemRunAsDeps);
  const unreadable = runAs && options.model ? await modelFolderRefusal(runAs, path.join(options.modelsDir, options.model)) : undefined;
  if (unreadable) {
    log.error({ code: unreadable.code, remedy: unreadable.remedy }, unreadable.message);
    await reporter?.fail(exitCodeFor(unreadable), `${unreadable.message} (fix: ${unreadable.remedy})`, options.shutdownFlushMs);
    return { ended: { kind: "refused", error: unreadable } };
  }
  const { report, context } = await patientPreflight(deps, options, run);
  if (run.signal?.aborted) return stopped(); // its verdict is moot
  if (report.verdict !== "SAFE") {
    log.error({ verdict: report.verdict, requirements: report.requirements.filter((r) => r.status !== "pass" && r.status !== "skipped") }, "worker preflight: not starting");
    const kind = report.verdict === "UNSAFE" ? "unsafe" : "unknown";
    await reporter?.fail(FAILURE_EXIT_CODES[kind], preflightReason(report), options.shutdownFlushMs);
    return { ended: { kind, report } };
  }
  log.info({ requirements: report.requirements.map((r) => `${r.id}: ${r.status}`) }, "worker preflight: SAFE");
  return { context, runAs };
}
