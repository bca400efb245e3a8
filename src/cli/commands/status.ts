import type { Command } from "commander";
import type { StatusResult, WorkerStatus } from "../../deployer/fleet/status.js";
import { printResult } from "../output.js";
import { examples } from "../program.js";
import { fleetCommand } from "./fleet-command.js";

export function registerStatus(program: Command): void {
  fleetCommand(program, "status", "the project's workers as AWS lists them now: state, zone, uptime, health", async ({ project, common, deps }) => {
    const { fleetStatus } = await import("../../deployer/fleet/status.js");
    const result = await deps.doing("listing the workers", () => fleetStatus(deps.fleet, project));
    printResult(common.output, result, () => renderStatus(result));
  }).addHelpText("after", examples("synkti status --project-name my-app", "synkti status --project-name my-app --output json"));
}

export function renderStatus(result: StatusResult): string {
  if (result.workers.length === 0) return `No workers in project ${result.project}.`;
  return [`${result.workers.length} worker${result.workers.length === 1 ? "" : "s"} in project ${result.project}:`, renderWorkers(result.workers)].join("\n");
}

/** A plain table (no colours: it is often piped or pasted into an issue). */
export function renderWorkers(workers: WorkerStatus[]): string {
  const header = ["INSTANCE", "STATE", "ZONE", "TYPE", "UPTIME", "PRIVATE IP", "HEALTH", "LAUNCH"];
  const rows = workers.map((w) => [
    w.instanceId,
    w.stopping ? `${w.state}*` : w.state,
    w.availabilityZone ?? "-",
    w.instanceType ?? "-",
    w.uptimeSeconds === null ? "-" : duration(w.uptimeSeconds),
    w.privateIp ?? "-",
    w.health,
    w.launchId ?? "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const note = workers.some((w) => w.stopping) ? ["* being stopped by synkti down"] : [];
  return [line(header), ...rows.map(line), ...note].join("\n");
}

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d${String(h).padStart(2, "0")}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  return m > 0 ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}
