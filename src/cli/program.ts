import { Command, Help, Option } from "commander";
import { versionInfo } from "../core/version.js";
import { parseInstanceTypes } from "../infra/compute-policy.js";
import { DEFAULT_INSTANCE_TYPE } from "../preflight/deployer/context.js";
import type { CommonOptions } from "./output.js";
import { parseRegion } from "./parse.js";
import { registerVersion } from "./commands/version.js";
import { registerContext } from "./commands/context.js";
import { registerPreflight } from "./commands/preflight.js";
import { registerLaunch } from "./commands/launch.js";
import { registerStatus } from "./commands/status.js";
import { registerDown } from "./commands/down.js";
import { registerLeaks } from "./commands/leaks.js";
import { registerLogs } from "./commands/logs.js";
import { registerUpload } from "./commands/upload.js";
import { registerInfra } from "./commands/infra.js";
import { registerAgent } from "./commands/worker.js";
import { registerEndpoint } from "./commands/endpoint.js";

/**
 * The commander tree. Each command lives in its own file under commands/ and loads the capability
 * it calls lazily, so --help and --version never pay for the AWS SDK.
 */
export function buildProgram(): Command {
  const program = new Command("synkti")
    .description("Serve an LLM with vLLM on EC2 spot GPUs, and never fail blindly.")
    .usage("<command> [options]\n       synkti --project-name <name> --model <model> [--workers <n>] [options]   (launch: on a laptop; the agent: on a worker)")
    .version(versionInfo().version, "-V, --version", "print the version and exit")
    .showHelpAfterError("(run synkti --help for usage)")
    .configureHelp(HELP)
    .addHelpText(
      "after",
      `
Examples:
  synkti infra up --project-name my-app                    # create the permanent resources once
  synkti upload binary --project-name my-app               # this synkti, for the workers
  synkti upload model --project-name my-app --model qwen-7b --from ./qwen-7b
  synkti preflight --project-name my-app --model qwen-7b   # is everything in place? (exit 0 = SAFE)
  synkti --project-name my-app --model qwen-7b --workers 3 # launch spot workers (on a laptop)
  synkti status --project-name my-app --output json        # the workers and their health
  synkti help <command>                                    # one command's options and examples

Exit codes: 0 done/SAFE, 1 UNSAFE, 2 usage, 3 could not observe, 4 internal error, 130 interrupted.`,
    );
  program.exitOverride();
  return program;
}

/**
 * Help a newcomer can follow (every command inherits it): the usage line spells out the required
 * options (`synkti upload model --project-name <name> --model <model> --from <dir> [options]`)
 * and each of them says "required" in the list.
 */
const HELP: Partial<Help> = {
  sortSubcommands: false,
  commandUsage(this: Help, command: Command): string {
    const usage = Help.prototype.commandUsage.call(this, command);
    const required = command.options.filter((o) => o.mandatory).map((o) => `${o.long} ${/<[^>]+>/.exec(o.flags)?.[0] ?? ""}`.trim());
    return required.length > 0 ? usage.replace(" [options]", ` ${required.join(" ")} [options]`) : usage;
  },
  optionDescription(this: Help, option: Option): string {
    const description = Help.prototype.optionDescription.call(this, option);
    return option.mandatory ? `required: ${description}` : description;
  },
};

/**
 * The end of a command's help: examples to copy, `command.addHelpText("after", examples(...))`.
 * Every visible command has some (test/unit/cli/help.test.ts).
 */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((line) => `  ${line}`).join("\n")}`;
}

/** Options every command accepts. */
export function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option("-o, --output <format>", "result format").choices(["text", "json"]).default("text"))
    .option("--debug", "print stack traces and debug logs", false);
}

export function withProjectName(command: Command, required: boolean): Command {
  return required
    ? command.requiredOption("-p, --project-name <name>", "project name (3-40 chars: a-z, 0-9, -)")
    : command.option("-p, --project-name <name>", "project name (3-40 chars: a-z, 0-9, -)");
}

/** --region, for every command that talks to AWS. */
export function withRegion(command: Command): Command {
  return command.option("-r, --region <region>", "AWS region (default: AWS_REGION or the profile's)", parseRegion);
}

/** --instance-type and --ami: what a launch starts, and so what preflight checks. */
export function withLaunchShape(command: Command): Command {
  return command
    .option("--instance-type <type>", "GPU instance type", DEFAULT_INSTANCE_TYPE)
    .option("--instance-types <types>", "several GPU instance types, in order of preference (comma-separated; the first is launched, the others are for replacements); each must be allowed by synkti infra up --instance-types")
    .option("--on-demand-fallback", "a replacement may be on-demand as the last resort (needs synkti infra up --allow-on-demand)")
    .option("--ami <ami-id>", "AMI to launch (default: newest AWS Deep Learning AMI, Ubuntu)");
}

/** The instance flags, parsed before any AWS call: `--instance-types` (ordered) wins over `--instance-type`. */
export function launchShape(options: { projectName?: string; instanceType?: string; instanceTypes?: string; onDemandFallback?: boolean }): {
  instanceType: string;
  instanceTypes: string[];
  onDemandFallback: boolean;
} {
  const fix = `synkti preflight --project-name ${options.projectName ?? "<project>"} --instance-types g5.xlarge,g6.xlarge`;
  const instanceTypes = options.instanceTypes !== undefined ? parseInstanceTypes("--instance-types", options.instanceTypes, fix) : [options.instanceType ?? DEFAULT_INSTANCE_TYPE];
  return { instanceType: instanceTypes[0]!, instanceTypes, onDemandFallback: options.onDemandFallback === true };
}

export function commonOptions(options: Record<string, unknown>): CommonOptions {
  return { output: options.output === "json" ? "json" : "text", debug: options.debug === true };
}

export function registerCommands(program: Command): void {
  registerVersion(program);
  registerContext(program);
  registerPreflight(program);
  registerLaunch(program);
  registerStatus(program);
  registerDown(program);
  registerLeaks(program);
  registerLogs(program);
  registerUpload(program);
  registerInfra(program);
  registerAgent(program);
  registerEndpoint(program);
  registerHelp(program);
  refuseUnknownCommands(program);
  pointAtOwnHelp(program);
}

/** A mistake in `synkti logs ...` points at `synkti help logs` (its required options and examples), not the root's help. */
function pointAtOwnHelp(command: Command, path: string[] = []): void {
  for (const sub of command.commands) {
    const own = [...path, sub.name()];
    sub.showHelpAfterError(`(run synkti help ${own.join(" ")} for its options and an example)`);
    pointAtOwnHelp(sub, own);
  }
}

/**
 * `synkti help <command> [<subcommand>]`. Commander offers a help command only to commands without
 * an action of their own, and the root has one (the launch).
 */
function registerHelp(program: Command): void {
  const help = program.command("help [command...]").description("show a command's usage, options and examples");
  help.addHelpText("after", examples("synkti help upload model", "synkti help status")).action((names: string[]) => {
    let command = program;
    for (const name of names) command = command.commands.find((c) => c.name() === name || c.aliases().includes(name)) ?? unknownCommand(command, name);
    command.help();
  });
}

/**
 * An unknown command says so and lists the commands (exit 2). The root's own action (the launch)
 * would otherwise take `synkti statsu` for a launch with a stray argument; the groups (`upload`,
 * `infra`) would name the typo but not what exists.
 */
function refuseUnknownCommands(program: Command): void {
  program.allowExcessArguments(true); // set last: subcommands keep refusing stray arguments
  program.hook("preAction", (_, action) => {
    if (action === program && program.args.length > 0) unknownCommand(program, program.args[0]!);
  });
  for (const group of program.commands.filter((c) => c.commands.length > 0)) {
    group.on("command:*", (operands: string[]) => unknownCommand(group, operands[0] ?? ""));
  }
}

function unknownCommand(parent: Command, name: string): never {
  const names = parent.createHelp().visibleCommands(parent).map((c) => c.name());
  const near = names.filter((n) => editDistance(name, n) <= Math.max(1, Math.floor(n.length / 3)));
  const path = parent.parent ? `synkti ${parent.name()}` : "synkti";
  return parent.error(
    [`error: unknown command '${name}'${near.length > 0 ? ` (did you mean ${near.join(" or ")}?)` : ""}`, `Commands of ${path}: ${names.join(", ")}`].join("\n"),
    { code: "commander.unknownCommand", exitCode: 2 },
  );
}

/** Edits (insert, delete, replace, swap two neighbours) from a to b, for "did you mean" (commander's own suggester is not exported). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
