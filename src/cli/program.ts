import { Command, Option } from "commander";
import { versionInfo } from "../core/version.js";
import { DEFAULT_INSTANCE_TYPE } from "../preflight/deployer/context.js";
import type { CommonOptions } from "./output.js";
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

/**
 * The commander tree. Each command lives in its own file under commands/ and loads the capability
 * it calls lazily, so --help and --version never pay for the AWS SDK.
 */
export function buildProgram(): Command {
  const program = new Command("synkti")
    .description("Serve an LLM with vLLM on EC2 spot GPUs, and never fail blindly.")
    .version(versionInfo().version, "-V, --version", "print the version and exit")
    .showHelpAfterError("(run synkti --help for usage)")
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      "after",
      `
Examples:
  synkti preflight --project-name my-app --model qwen-7b   # is everything in place? (exit 0 = SAFE)
  synkti infra up --project-name my-app                    # create the permanent resources once
  synkti --project-name my-app --model qwen-7b --workers 3 # launch spot workers (on a laptop)
  synkti status --project-name my-app --output json        # the workers and their health
  synkti context --output json                             # deployer or worker, and why

Exit codes: 0 done/SAFE, 1 UNSAFE, 2 usage, 3 could not observe, 4 internal error, 130 interrupted.`,
    );
  program.exitOverride();
  return program;
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
  return command.option("-r, --region <region>", "AWS region (default: AWS_REGION or the profile's)");
}

/** --instance-type and --ami: what a launch starts, and so what preflight checks. */
export function withLaunchShape(command: Command): Command {
  return command
    .option("--instance-type <type>", "GPU instance type", DEFAULT_INSTANCE_TYPE)
    .option("--ami <ami-id>", "AMI to launch (default: newest AWS Deep Learning AMI, Ubuntu)");
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
}
