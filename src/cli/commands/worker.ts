import type { Command } from "commander";
import type { ContextReport } from "../../context/types.js";
import { SynktiError } from "../../core/errors.js";
import { validateProjectName } from "../../infra/names.js";
import { printResult, type OutputFormat } from "../output.js";
import { commonOptions, examples, withCommonOptions, withProjectName } from "../program.js";

export interface WorkerCliOptions {
  project: string;
  model?: string;
  modelServerCommand?: string;
  output?: OutputFormat;
  debug?: boolean;
}

/**
 * Runs the worker agent on this instance until SIGTERM/SIGINT, the root command's worker branch
 * (`synkti --project-name P --model M` when `synkti context` says "worker"). Builds the agent's
 * collaborators, wires the signals, and turns its outcome into the contract's exit code:
 * UNSAFE preflight 1 (the report is printed), UNKNOWN 3, SIGINT 130, SIGTERM 0, gave up on the
 * model server 1 (after asking AWS to terminate this instance).
 */
export async function runWorkerFromCli(options: WorkerCliOptions, verdict: ContextReport): Promise<void> {
  const [{ spawn }, { createAwsClients }, { ImdsClient, imdsSettingsFromEnv }, { systemClock }, { createLogger }, worker, { renderReport }] = await Promise.all([
    import("node:child_process"),
    import("../../aws/clients.js"),
    import("../../context/index.js"),
    import("../../core/clock.js"),
    import("../../core/log.js"),
    import("../../worker/index.js"),
    import("../../preflight/report.js"),
  ]);
  const log = createLogger(options.debug ? { level: "debug" } : {}).child({ project: options.project, instanceId: verdict.evidence.instanceId });
  const workerOptions = worker.workerOptionsFromEnv(options, process.env);
  const deps = {
    clients: createAwsClients({ region: verdict.evidence.region, role: "worker" }),
    imds: new ImdsClient({ endpoint: imdsSettingsFromEnv(process.env).endpoint, clock: systemClock }),
    clock: systemClock,
    log,
    spawn,
    self: { execPath: process.execPath, isSingleBinary: await isSingleBinary() },
    envPath: process.env.PATH ?? "",
  };

  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) return log.warn({ signal }, "already stopping (the model server gets its grace period)");
    received = signal;
    log.info({ signal }, "stopping the worker");
    controller.abort(new Error(`received ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const outcome = await worker.runWorker(deps, workerOptions, { verdict, signal: controller.signal });
    switch (outcome.kind) {
      case "unsafe":
      case "unknown": {
        const { verdict: v, requirements } = outcome.report;
        printResult(options.output ?? "text", { verdict: v, requirements }, () => renderReport(outcome.report, `worker preflight ${options.project}`));
        throw new SynktiError(`worker preflight: ${v}`, { code: v.toLowerCase(), kind: outcome.kind === "unsafe" ? "unsafe" : "unobservable", silent: true });
      }
      case "gave-up":
        throw new SynktiError(`The worker gave up on its model server: ${outcome.reason}.`, {
          code: "model-server-failed",
          kind: "unsafe",
          fault: "tool",
          remedy: outcome.unauthenticated
            ? `synkti --project-name ${options.project} --model-server-command '<command>'   # one that honours VLLM_API_KEY, as vllm serve does`
            : `synkti status --project-name ${options.project}   # then check the model server's log lines above`,
        });
      case "refused":
        throw outcome.error;
      case "stopped":
        if (received === "SIGINT") {
          throw new SynktiError("Interrupted; the model server was stopped.", { code: "interrupted", kind: "interrupted" });
        }
        return;
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function isSingleBinary(): Promise<boolean> {
  try {
    return (await import("node:sea")).isSea();
  } catch {
    return false;
  }
}

/**
 * `synkti agent --project-name P [--model M]`: the worker agent without the root command's role
 * decision, for tests and the local cloud. Hidden: operators run `synkti --project-name P`.
 */
export function registerAgent(program: Command): void {
  const command = program.command("agent", { hidden: true }).description("run the worker agent on this instance (tests; operators run synkti --project-name P)");
  withCommonOptions(withProjectName(command, true))
    .option("-m, --model <model>", "model to serve (weights under SYNKTI_MODELS_DIR/<model>)")
    .option("--model-server-command <template>", "model server command with {model_dir}, {model}, {host}, {port} (default: vllm serve ...)")
    .addHelpText("after", examples("synkti agent --project-name my-app --model tiny --model-server-command 'my-server {model_dir} --name {model} --port {port}'"))
    .action(async (raw: Record<string, unknown>) => {
      const common = commonOptions(raw);
      const project = validateProjectName(String(raw.projectName));
      const [{ detectContext, contextSettingsFromEnv }, { silentLogger }] = await Promise.all([import("../../context/index.js"), import("../../core/log.js")]);
      const verdict = await detectContext({ ...contextSettingsFromEnv(process.env), projectName: project }, { log: silentLogger });
      await runWorkerFromCli(
        {
          project,
          ...(typeof raw.model === "string" ? { model: raw.model } : {}),
          ...(typeof raw.modelServerCommand === "string" ? { modelServerCommand: raw.modelServerCommand } : {}),
          output: common.output,
          debug: common.debug,
        },
        verdict,
      );
    });
}
