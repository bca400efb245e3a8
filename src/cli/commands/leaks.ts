import type { Command } from "commander";
import { SynktiError } from "../../core/errors.js";
import type { LeaksResult } from "../../deployer/fleet/leaks.js";
import { printResult } from "../output.js";
import { examples } from "../program.js";
import { fleetCommand } from "./fleet-command.js";

/** `synkti leaks`: exit 0 when nothing leaks, 1 with each leak and its fix (a CI check after tests). */
export function registerLeaks(program: Command): void {
  fleetCommand(program, "leaks", "list ephemeral resources tagged with the project that should not exist; exit 1 if any", async ({ project, common, deps }) => {
    const { findLeaks } = await import("../../deployer/fleet/leaks.js");
    const result = await deps.doing("looking for leaks", () => findLeaks(deps.fleet, project, deps.region));
    printResult(common.output, result, () => renderLeaks(result));
    if (result.leaks.length > 0) throw new SynktiError("leaks found", { code: "leaks", kind: "unsafe", silent: true });
  }).addHelpText("after", examples("synkti leaks --project-name my-app   # exit 1 if anything leaks: a CI check after tests"));
}

export function renderLeaks(r: LeaksResult): string {
  if (r.leaks.length === 0) return `No leaks in project ${r.project}.`;
  const lines = [`${r.leaks.length} leak${r.leaks.length === 1 ? "" : "s"} in project ${r.project}:`];
  for (const leak of r.leaks) lines.push(`  ${leak.kind} ${leak.id} (${leak.state}): ${leak.reason}`, `    Run: ${leak.fix}`);
  return lines.join("\n");
}
