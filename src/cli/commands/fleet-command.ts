import type { Command } from "commander";
import { validateProjectName } from "../../infra/names.js";
import type { CommonOptions } from "../output.js";
import { commonOptions, withCommonOptions, withProjectName, withRegion } from "../program.js";

/** The deployer's collaborators for fleet commands; AWS code loads only when a command runs. */
export async function fleetCommandDeps(options: { region?: string; debug?: boolean }) {
  const [{ deployerDeps }, { requireRegion }, fleet] = await Promise.all([
    import("../deployer-deps.js"),
    import("../../infra/account.js"),
    import("../../deployer/fleet/index.js"),
  ]);
  const base = deployerDeps(options);
  // No region anywhere: exit 1 with the remedy, as preflight says, rather than an SDK error.
  await requireRegion(base);
  return { ...base, fleet: fleet.fleetDeps(base.clients, base.clock, base.log), doing: fleet.doing };
}

export type FleetCommandDeps = Awaited<ReturnType<typeof fleetCommandDeps>>;

export interface FleetCommandRun {
  project: string;
  common: CommonOptions;
  deps: FleetCommandDeps;
  /** The command's own options (e.g. --dry-run). */
  options: Record<string, unknown>;
  /** The positional argument, validated, when the command takes one (logs' instance id). */
  argument?: string;
}

export interface FleetArgument {
  /** As commander writes it: `<instance-id>`. */
  name: string;
  description: string;
  /** Checked before any AWS collaborator is built, so a bad value is a usage error first. */
  validate?: (value: string, project: string) => string | Promise<string>;
}

/**
 * A read-or-teardown command on the project's instances (status, leaks, down, endpoint, logs): the
 * project name, --region, the common options and an optional positional argument, then `action`
 * with the deployer's fleet collaborators. Returns the command so callers can add their own options.
 */
export function fleetCommand(
  program: Command,
  name: string,
  description: string,
  action: (run: FleetCommandRun) => Promise<void>,
  argument?: FleetArgument,
): Command {
  const command = program.command(name).description(description);
  if (argument) command.argument(argument.name, argument.description);
  return withRegion(withCommonOptions(withProjectName(command, true))).action(async (...args: unknown[]) => {
    // commander passes the positional argument first, when there is one, then the options.
    const options = args[argument ? 1 : 0] as Record<string, unknown>;
    const common = commonOptions(options);
    const project = validateProjectName(String(options.projectName));
    const value = argument ? await (argument.validate ?? ((v: string) => v))(String(args[0]), project) : undefined;
    const deps = await fleetCommandDeps({ ...(typeof options.region === "string" ? { region: options.region } : {}), debug: common.debug });
    await action({ project, common, deps, options, ...(value !== undefined ? { argument: value } : {}) });
  });
}
