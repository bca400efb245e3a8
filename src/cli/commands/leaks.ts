import type { Command } from "commander";
import { SynktiError } from "../../core/errors.js";
import { validateProjectName } from "../../infra/names.js";
import type { LeaksResult } from "../../deployer/fleet/leaks.js";
import { printResult } from "../output.js";
import { commonOptions, withCommonOptions, withProjectName } from "../program.js";
import { fleetCommandDeps } from "./status.js";

/** `synkti leaks`: exit 0 when nothing leaks, 1 with each leak and its fix (a CI check after tests). */
export function registerLeaks(program: Command): void {
  const command = program.command("leaks").description("list ephemeral resources tagged with the project that should not exist; exit 1 if any");
  withCommonOptions(withProjectName(command, true))
    .option("-r, --region <region>", "AWS region (default: AWS_REGION or the profile's)")
    .action(async (options) => {
      const common = commonOptions(options);
      const project = validateProjectName(options.projectName);
      const deps = await fleetCommandDeps({ region: options.region, debug: common.debug });
      const { findLeaks } = await import("../../deployer/fleet/leaks.js");
      const result = await deps.withAwsContext("looking for leaks", () => findLeaks(deps.fleet, project, deps.region));
      printResult(common.output, result, () => renderLeaks(result));
      if (result.leaks.length > 0) throw new SynktiError("leaks found", { code: "leaks", kind: "unsafe", silent: true });
    });
}

export function renderLeaks(r: LeaksResult): string {
  if (r.leaks.length === 0) return `No leaks in project ${r.project}.`;
  const lines = [`${r.leaks.length} leak${r.leaks.length === 1 ? "" : "s"} in project ${r.project}:`];
  for (const leak of r.leaks) lines.push(`  ${leak.kind} ${leak.id} (${leak.state}): ${leak.reason}`, `    Run: ${leak.fix}`);
  return lines.join("\n");
}
