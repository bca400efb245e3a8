import { Option, type Command } from "commander";
import { SynktiError, usageError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { validateProjectName } from "../../infra/names.js";
import type { ContextReport } from "../../context/types.js";
import type { LaunchResult } from "../../deployer/launch/types.js";
import { printResult } from "../output.js";
import { parseWorkers } from "../parse.js";
import { commonOptions, withCommonOptions, withLaunchShape, withProjectName, withRegion } from "../program.js";
import { fleetCommandDeps } from "./fleet-command.js";
import { renderWorkers } from "./status.js";

/**
 * The root command, `synkti --project-name P --model M --workers N`: on a deployer, preflight and
 * (when SAFE) launch the missing workers; on a worker, run the agent (src/cli/commands/worker.ts). Options are positional so that subcommands keep their
 * own `--project-name`, and optional here because commander checks a parent's required options
 * for every subcommand too.
 */
export function registerLaunch(program: Command): void {
  program.enablePositionalOptions();
  withLaunchShape(withRegion(withProjectName(withCommonOptions(program), false)))
    .option("-m, --model <model>", "required to launch: model the workers serve (its weights must be in the bucket)")
    .addOption(new Option("-w, --workers <n>", "desired pending-or-running workers").argParser(parseWorkers).default(1))
    .option("--model-server-command <template>", "on a worker only: model server command with {model_dir}, {model}, {host}, {port} (default: vllm serve ...); refused on a deployer")
    .action(async (options) => {
      if (options.projectName === undefined) {
        const bare = program.options.every((o) => program.getOptionValueSource(o.attributeName()) !== "cli");
        if (bare) program.help({ error: true }); // plain `synkti`: the help, as before there was a root action
        throw usageError("project-name-required", "--project-name is required.", "synkti --project-name my-app --model <model> --workers 1");
      }
      const common = commonOptions(options);
      const project = validateProjectName(options.projectName);
      const verdict = await whereAmI(project);
      if (verdict.role === "worker") {
        const { runWorkerFromCli } = await import("./worker.js");
        return runWorkerFromCli({ project, output: common.output, debug: common.debug, ...pick(options, "model", "modelServerCommand") }, verdict);
      }
      // User-data runs `synkti --project-name P --model M` on each worker: a template given here would be silently lost.
      if (options.modelServerCommand !== undefined) {
        throw usageError("model-server-command-on-deployer", "--model-server-command applies on a worker only: a launch cannot pass it to the workers it starts, which run the default (vllm serve).", `synkti --project-name ${project} --model ${options.model ?? "<model>"} --workers ${options.workers}`);
      }
      const workers: number = options.workers;
      if (!options.model) {
        throw usageError("model-required", "A launch needs --model: the weights the workers serve.", `synkti --project-name ${project} --model <model> --workers ${workers}`);
      }
      const { validateModelName } = await import("../../deployer/upload/model-name.js");
      const model = validateModelName(options.model);
      const deps = await fleetCommandDeps({ region: options.region, debug: common.debug });
      await interruptible(deps.log, async (signal, forceSignal) => {
        const { requireSafe } = await import("../deployer-deps.js");
        const { effectiveRegion } = await import("../../aws/clients.js");
        const launch = await import("../../deployer/launch/index.js");
        // Ctrl-C during the preflight or the resolution: nothing was launched yet (exit 130).
        await launch.beforeLaunch(signal, () =>
          requireSafe("launch", { project, model, workers, instanceType: options.instanceType, output: common.output, signal, ...pick(options, "region", "ami") }, deps),
        );
        const region = (await effectiveRegion(deps.clients))!; // preflight's "region" requirement passed
        const localSha256 = await launch.beforeLaunch(signal, () => selfSha256(signal));
        const target = await launch.beforeLaunch(signal, async () =>
          launch.resolveLaunchTarget(
            { clients: deps.clients, ec2: deps.fleet.ec2, clock: deps.clock, log: deps.log },
            { project, model, region, instanceType: options.instanceType, userDataTemplate: await launch.loadUserDataTemplate(), ...pick(options, "ami"), ...(localSha256 ? { localSha256 } : {}) },
            signal,
          ),
        );
        const result = await deps.doing("launching workers", () => launch.launchWorkers(deps.fleet, { target, workers, signal, forceSignal }));
        printResult(common.output, result, () => renderLaunch(result));
      });
    });
}

/**
 * The binary decides its own role (DESIGN): user-data runs this same command line on a worker.
 * Contradictory evidence is "could not observe" (exit 3), never a guess that might launch GPUs
 * from inside the fleet.
 */
async function whereAmI(project: string): Promise<ContextReport> {
  const [{ detectContext, contextSettingsFromEnv }, { silentLogger }] = await Promise.all([import("../../context/index.js"), import("../../core/log.js")]);
  const report = await detectContext({ ...contextSettingsFromEnv(process.env), projectName: project }, { log: silentLogger });
  if (report.contradiction) {
    throw new SynktiError(`Cannot tell whether this machine is a worker: ${report.contradiction.message}`, { code: "context-contradiction", kind: "unobservable", remedy: report.contradiction.fix });
  }
  return report;
}

function pick(options: Record<string, unknown>, ...keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => typeof options[k] === "string").map((k) => [k, options[k] as string]));
}

/**
 * Ctrl-C / SIGTERM for this command only. The first aborts `signal`: launch nothing more, undo
 * this launch, exit 130. A second does not skip the cleanup (that would orphan billed GPUs); it
 * aborts `forceSignal`, which abandons RunInstances calls in flight (cleanup then finds their
 * instances by the launch tag), and says so.
 */
async function interruptible(log: Logger, work: (signal: AbortSignal, forceSignal: AbortSignal) => Promise<void>): Promise<void> {
  const first = new AbortController();
  const second = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!first.signal.aborted) {
      log.warn(`${name}: stopping the launch; terminating the instances it created before exiting`);
      first.abort(new Error(`interrupted by ${name}`));
    } else {
      log.warn(`${name} again: still terminating this launch's instances so none is left running; exiting when AWS confirms`);
      second.abort(new Error(`interrupted twice by ${name}`));
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await work(first.signal, second.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function renderLaunch(r: LaunchResult): string {
  const lines = [`${r.project}: ${r.message}`];
  for (const f of r.fallbacks) lines.push(`  no spot capacity in ${f.from} (${f.error}): ${f.to ? `moved to ${f.to}` : "no zone left"}`);
  lines.push("", r.workers.length > 0 ? renderWorkers(r.workers) : "No workers.");
  if (r.launched.length > 0) lines.push("", "Workers boot, verify the binary and weights, then start the model server; watch: synkti status --project-name " + r.project);
  return lines.join("\n");
}

/** SHA-256 of this executable when it is the single binary (what workers must run), else undefined. */
async function selfSha256(signal: AbortSignal): Promise<string | undefined> {
  const { selfBinary } = await import("../deployer-deps.js");
  const self = await selfBinary();
  if (!self) return undefined;
  const { sha256OfFile } = await import("../../deployer/upload/hash.js");
  return (await sha256OfFile(self.path, signal)).sha256;
}
