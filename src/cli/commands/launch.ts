import { Option, type Command } from "commander";
import { messageOf, SynktiError, usageError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { projectNames, validateProjectName } from "../../infra/names.js";
import type { ContextReport } from "../../context/types.js";
import type { LaunchOutcome, LaunchResult } from "../../deployer/launch/index.js";
import type { ScaleDown } from "../../deployer/launch/plan.js";
import { dollars } from "../../deployer/launch/proposal.js";
import { launchShapeFlags } from "../../preflight/deployer/context.js";
import { printResult } from "../output.js";
import { parseDuration, parseWorkers } from "../parse.js";
import { canAsk, confirm } from "../confirm.js";
import { elapsed, type WaitProgress } from "../../deployer/launch/wait-serving.js";
import { commonOptions, launchShape, withCommonOptions, withLaunchShape, withProjectName, withRegion } from "../program.js";
import { fleetCommandDeps, type FleetCommandDeps } from "./fleet-command.js";
import { renderEndpointSummary } from "./endpoint.js";
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
    .addOption(new Option("-w, --workers <n>", "the desired number of workers, kept in the bucket (cluster/desired.json) for the workers' repair; without it the desired size stays as it is (1 for a new project); lowering it retires workers and asks first (--yes off a terminal)").argParser(parseWorkers))
    .option("--model-server-command <template>", "on a worker only: model server command with {model_dir}, {model}, {host}, {port} (default: vllm serve ...); refused on a deployer")
    .option("-y, --yes", "launch (or lower --workers) without asking; the question is only asked on a terminal, and lowering off a terminal needs it")
    .option("--wait", "return once the workers are the desired number and every one says serving (its SynktiState tag), with progress on stderr")
    .addOption(new Option("--wait-timeout <duration>", "give up waiting after this long, e.g. 90s, 10m, 1h (implies --wait; default 30m)").argParser(parseDuration))
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
        throw usageError("model-server-command-on-deployer", "--model-server-command applies on a worker only: a launch cannot pass it to the workers it starts, which run the default (vllm serve).", `synkti --project-name ${project} --model ${options.model ?? "<model>"}${workersFlag(options.workers)}`);
      }
      /** --workers only when given: without it the desired size in the bucket is kept (src/deployer/desired/rule.ts). */
      const flag: number | undefined = options.workers;
      if (!options.model) {
        throw usageError("model-required", "A launch needs --model: the weights the workers serve.", `synkti --project-name ${project} --model <model>${workersFlag(flag)}`);
      }
      const [{ validateModelName }, { endpointUrlOverride }] = await Promise.all([import("../../artifacts/model-name.js"), import("../../deployer/endpoint/url.js")]);
      const model = validateModelName(options.model);
      const shape = launchShape(options);
      const urlOverride = endpointUrlOverride(); // already checked up front (src/cli/environment.ts): only read here
      const deps = await fleetCommandDeps({ region: options.region, debug: common.debug });
      await interruptible(deps.log, async (signal, forceSignal) => {
        const { requireSafe } = await import("../deployer-deps.js");
        const { effectiveRegion } = await import("../../aws/clients.js");
        const { createSpotPrices } = await import("../../aws/spot-prices.js");
        const { launchObservations } = await import("../../preflight/deployer/index.js");
        const launch = await import("../../deployer/launch/index.js");
        const desired = await import("../../deployer/desired/index.js");
        const names = projectNames(project);
        // Without --workers, the desired size is wanted before the preflight (its quota check counts
        // the workers). A read that fails here (no credentials, no bucket yet) is left to the
        // preflight to explain, then retried; it waits at most EARLY_READ_MS, so a silent AWS costs
        // the preflight's own deadline and little more (the README's bound).
        const early =
          flag === undefined
            ? await launch.beforeLaunch(signal, () => desired.readDesired(deps.fleet, names, AbortSignal.any([signal, AbortSignal.timeout(EARLY_READ_MS)]))).catch((error: unknown) => {
                if (signal.aborted) throw error; // Ctrl-C: "Interrupted. Nothing was launched."
                deps.log.debug({ err: messageOf(error) }, "could not read the desired size before the preflight; reading it after");
                return undefined;
              })
            : undefined;
        const preflightWorkers = flag ?? (early?.status === "set" ? early.desired.workers : 1);
        // Ctrl-C during the preflight, the plan or the question: nothing was launched yet (exit 130).
        const { observed } = await launch.beforeLaunch(signal, () =>
          requireSafe("launch", { project, model, workers: preflightWorkers, ...shape, output: common.output, signal, ...pick(options, "region", "ami") }, deps),
        );
        const region = (await effectiveRegion(deps.clients))!; // preflight's "region" requirement passed
        // The launch acts on what the SAFE preflight observed (image, binary, weights, group, zones), not on a second reading.
        const seen = launchObservations(observed);
        const target = launch.resolveLaunchTarget(
          { project, model, region, ...shape, userDataTemplate: await launch.loadUserDataTemplate() },
          seen,
          deps.log,
        );
        const read = early ?? (await launch.beforeLaunch(signal, () => deps.doing("reading the desired size", () => desired.readDesired(deps.fleet, names, signal))));
        if (read.status === "invalid") deps.log.warn(`s3://${names.bucket}/${names.desiredKey} is ${desired.describeRead(read)}: ${flag === undefined ? "launching 1 worker and leaving it as it is" : "replacing it"}`);
        const decision = desired.decideDesired({ flag, current: read.status === "set" ? read.desired : null, live: seen.workers.length });
        const workers = decision.workers;
        const again = (extra: string[] = []) => sameCommand({ ...options, ...shape, project, model, workers: flag, region }, extra);
        const intent = { decision, read, rerun: again() };
        const launchDeps = { ...deps.fleet, prices: createSpotPrices(deps.clients) };
        const prepared = await deps.doing("planning the launch", () => launch.prepareLaunch(launchDeps, { target, workers, signal, active: seen.workers, intent }));
        if ((prepared.plan.toLaunch > 0 || decision.lowering) && options.yes !== true) {
          if (canAsk()) {
            process.stderr.write(`${launch.renderProposal(prepared.proposal)}\n`);
            const yes = await launch.beforeLaunch(signal, () => confirm(launch.proposalQuestion(prepared.proposal), signal));
            if (!yes) throw declined(again(["--yes"]));
          } else if (decision.lowering) {
            // Scripts never block on a question, and never retire serving workers without saying so.
            throw loweringNeedsYes(prepared.plan.scaleDown, decision.lowering, again(["--yes"]));
          }
        }
        const result = await deps.doing("launching workers", () => launch.launchWorkers(launchDeps, { target, workers, signal, forceSignal, prepared, intent }));
        const waitTimeoutMs: number | undefined = options.waitTimeout;
        const waited = options.wait === true || waitTimeoutMs !== undefined ? await waitServing(deps, launch, result, { project, region, deadlineMs: waitTimeoutMs ?? DEFAULT_WAIT_MS, signal }) : undefined;
        const outcome = await launch.launchOutcome(deps.fleet, result, { region, ...(urlOverride ? { urlOverride } : {}), ...(waited ? { waited } : {}) });
        printResult(common.output, outcome, () => renderLaunchOutcome(outcome, region));
      });
    });
}

const DEFAULT_WAIT_MS = 30 * 60_000;
/** The desired size's read before the preflight: one small GET; a slow or silent AWS is the preflight's to report. */
const EARLY_READ_MS = 3000;

const workersFlag = (workers: number | undefined) => (workers === undefined ? "" : ` --workers ${workers}`);

/** The operator's launch command as given (--workers only if it was), plus `extra`: for remedies. */
function sameCommand(o: { project: string; model: string; workers: number | undefined; region: string; instanceTypes: string[]; onDemandFallback: boolean; ami?: string; wait?: boolean; waitTimeout?: number; output?: string }, extra: string[] = []): string {
  const flags = [`--project-name ${o.project}`, `--model ${o.model}`, ...(o.workers === undefined ? [] : [`--workers ${o.workers}`]), `--region ${o.region}`];
  const shape = launchShapeFlags(o);
  if (shape.length > 0) flags.push(shape.join(" "));
  if (o.ami) flags.push(`--ami ${o.ami}`);
  if (o.wait) flags.push("--wait");
  if (o.waitTimeout !== undefined) flags.push(`--wait-timeout ${Math.round(o.waitTimeout / 1000)}s`);
  if (o.output === "json") flags.push("--output json");
  return `synkti ${[...flags, ...extra].join(" ")}`;
}

/** Answered no: nothing acquired, and the same launch without the question. */
function declined(remedy: string): SynktiError {
  return new SynktiError("Not confirmed: nothing was launched and the desired size was not changed.", { code: "declined", kind: "unsafe", remedy });
}

/** Lowering off a terminal without --yes: which workers it would retire, and the command that does it. */
function loweringNeedsYes(scaleDown: ScaleDown | null, lowering: { from: number; to: number }, remedy: string): SynktiError {
  const retiring = scaleDown?.retiring ?? [];
  const who = retiring.length === 0 ? "no worker holds those slots now" : `${retiring.length} worker${retiring.length === 1 ? "" : "s"} would drain and terminate ${retiring.length === 1 ? "itself" : "themselves"}: ${retiring.map((r) => `slot ${r.slot} (${r.instanceId})`).join(", ")}`;
  return new SynktiError(
    `Lowering the desired workers from ${lowering.from} to ${lowering.to} needs a yes (${who}); there is no terminal to ask on, so nothing was changed. Run it again with --yes.`,
    { code: "lowering-needs-yes", kind: "unsafe", remedy },
  );
}

/**
 * `--wait`: the launch is committed, so neither a timeout nor Ctrl-C touches an instance. Progress
 * on stderr: one line redrawn on a terminal, a line per change elsewhere (logs stay readable).
 */
async function waitServing(
  deps: FleetCommandDeps,
  launch: typeof import("../../deployer/launch/index.js"),
  result: LaunchResult,
  options: { project: string; region: string; deadlineMs: number; signal: AbortSignal },
) {
  const tty = process.stderr.isTTY === true;
  let previous = "";
  const onProgress = (p: WaitProgress) => {
    const line = `waiting: ${launch.describeProgress(p)}`;
    const changed = line.replace(/ \([^)]*\)$/, "") !== previous;
    previous = line.replace(/ \([^)]*\)$/, "");
    if (tty) process.stderr.write(`\r\x1b[K${line}`);
    else if (changed) process.stderr.write(`${line}\n`);
  };
  const flags = `--project-name ${options.project} --region ${options.region}`;
  try {
    const desired = result.desiredFile?.workers;
    const leavingIds = result.plan.scaleDown?.retiring.map((r) => r.instanceId) ?? [];
    return await launch.waitUntilServing(deps.fleet, { ...options, include: result.launched.map((l) => l.instanceId), ...(desired !== undefined ? { desired } : {}), leavingIds, onProgress });
  } catch (error) {
    if (!options.signal.aborted) throw error;
    throw new SynktiError(`Interrupted while waiting; the launch is complete and its workers keep booting.`, { code: "interrupted", kind: "interrupted", remedy: `synkti status ${flags}` });
  } finally {
    if (tty) process.stderr.write("\n");
  }
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

/** Where the desired size stands after the launch, and how to change it. */
function renderDesired(r: LaunchResult): string[] {
  if (r.desiredSource === null) return [];
  if (r.desiredFile === null) return [`  desired workers: ${r.desired} (no cluster/desired.json: the workers do not repair silent deaths; set it with --workers <n>)`];
  const how = r.desiredSource === "flag" ? "set now" : "kept; --workers <n> changes it";
  const lines = [`  desired workers: ${r.desiredFile.workers} (cluster/desired.json, set at ${r.desiredFile.setAt}; ${how})`];
  if (r.desiredFile.workers === 0) lines.push(`  the desired size is 0 (synkti down set it): to launch, run: synkti --project-name ${r.project} --model ${r.plan.model} --workers <n>`);
  return lines;
}

/** The launch, the wait's line, then the endpoint (the URL and a request to copy; never the key). */
export function renderLaunchOutcome(o: LaunchOutcome, region?: string): string {
  const waited = o.wait ? [`All ${o.wait.serving.length} workers serving after ${elapsed(o.wait.waitedSeconds * 1000)}.`] : [];
  return [renderLaunch(o), ...waited, "", renderEndpointSummary({ endpoint: o.endpoint, unavailable: o.endpointUnavailable }, region)].join("\n");
}

function renderLaunch(r: LaunchResult): string {
  const lines = [`${r.project}: ${r.message}`, ...renderDesired(r)];
  if (r.plan.toLaunch > 0) {
    const cost = r.plan.hourlyEstimate === null ? "spot price unknown" : `about ${dollars(r.plan.hourlyEstimate)}/h at the current spot price`;
    lines.push(`  ${r.plan.toLaunch} x ${r.plan.instanceType} (spot) serving ${r.plan.model}: ${cost}`);
  }
  for (const h of r.heldSlots) lines.push(`  slot ${h.slot}: already being filled (claim ${h.key}), left to its claimant`);
  for (const f of r.fallbacks) lines.push(`  no spot capacity in ${f.from} (${f.error}): ${f.to ? `moved to ${f.to}` : "no zone left"}`);
  lines.push("", r.workers.length > 0 ? renderWorkers(r.workers) : "No workers.");
  if (r.launched.length > 0) lines.push("", "Workers boot, verify the binary and weights, then start the model server; watch: synkti status --project-name " + r.project);
  return lines.join("\n");
}
