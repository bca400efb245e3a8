import type { Command } from "commander";
import type { WorkerLogs } from "../../deployer/logs/show.js";
import { projectNames } from "../../infra/names.js";
import { printResult } from "../output.js";
import { examples } from "../program.js";
import { fleetCommand } from "./fleet-command.js";

/** `synkti logs <instance id>`: what a worker left in the bucket, readable after it is gone. */
export function registerLogs(program: Command): void {
  const description = "a worker's failure record and the last 64 KiB of its boot and agent log, from the project's bucket";
  const instanceId = {
    name: "<instance-id>",
    description: "the worker's EC2 instance id (synkti status lists them, and recent failures)",
    validate: async (id: string, project: string) => (await import("../../deployer/logs/show.js")).validateInstanceId(id, project),
  };
  fleetCommand(
    program,
    "logs",
    description,
    async ({ project, common, deps, argument }) => {
      const { workerLogs } = await import("../../deployer/logs/show.js");
      const id = argument!;
      const result = await deps.doing(`reading the logs of ${id}`, () => workerLogs(deps.fleet, projectNames(project), id));
      printResult(common.output, result, () => renderLogs(result));
    },
    instanceId,
  ).addHelpText("after", examples("synkti logs --project-name my-app i-0123456789abcdef0", "synkti logs --project-name my-app i-0123456789abcdef0 --output json"));
}

export function renderLogs(r: WorkerLogs): string {
  const lines: string[] = [];
  if (r.failure) {
    const exit = r.failure.exitCode === null ? "no exit code" : `exit code ${r.failure.exitCode}`;
    lines.push(`${r.instanceId} failed at ${r.failure.at} (${exit}):`, ...r.failure.reason.split("\n").map((l) => `  ${l}`));
  } else if (r.failureUnreadable) {
    lines.push(`${r.instanceId}: its failure record cannot be believed (${r.failureUnreadable}).`);
  } else {
    lines.push(`${r.instanceId}: no failure recorded (it has not failed, or it ended before it could say why).`);
  }
  lines.push("");
  if (r.log === null) {
    lines.push("No log was stored.");
  } else {
    const cut = r.logCut && r.logSize !== null ? ` (its last ${kib(r.logCut)} of ${kib(r.logSize)})` : "";
    lines.push(`Log${cut}:`, r.log.replace(/\n$/, ""));
  }
  return lines.join("\n");
}

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
