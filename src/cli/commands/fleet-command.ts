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
}

/**
 * A read-or-teardown command on the project's instances (status, leaks, down): the project name,
 * --region and the common options, then `action` with the deployer's fleet collaborators.
 * Returns the command so callers can add their own options.
 */
export function fleetCommand(program: Command, name: string, description: string, action: (run: FleetCommandRun) => Promise<void>): Command {
  const command = program.command(name).description(description);
  return withRegion(withCommonOptions(withProjectName(command, true))).action(async (options: Record<string, unknown>) => {
    const common = commonOptions(options);
    const project = validateProjectName(String(options.projectName));
    const deps = await fleetCommandDeps({ ...(typeof options.region === "string" ? { region: options.region } : {}), debug: common.debug });
    await action({ project, common, deps, options });
  });
}
