import type { Command } from "commander";
import { SynktiError } from "../../core/errors.js";
import type { DrainReport } from "../../deployer/fleet/drain-targets.js";
import type { DownResult } from "../../deployer/fleet/down.js";
import { printResult } from "../output.js";
import { examples } from "../program.js";
import { fleetCommand } from "./fleet-command.js";

/**
 * `synkti down`: no --yes, on purpose: it ends only ephemeral instances (which hold nothing of
 * value, DESIGN idea 4) and never a permanent resource; --dry-run shows what it would end.
 */
export function registerDown(program: Command): void {
  const description = "take the workers out of the load balancer (in-flight requests finish), terminate every instance of the project and wait until AWS reports them gone (permanent resources stay)";
  fleetCommand(program, "down", description, async ({ project, common, deps, options }) => {
    const { downProject } = await import("../../deployer/fleet/down.js");
    const result = await deps.doing("stopping the project's instances", () =>
      downProject(deps.fleet, { project, dryRun: options.dryRun === true, ...(deps.region ? { region: deps.region } : {}) }),
    );
    printResult(common.output, result, () => renderDown(result));
    if (result.remaining.length > 0 || result.error) {
      throw new SynktiError("down: instances left", { code: "down-incomplete", kind: "unsafe", silent: true });
    }
  })
    .option("--dry-run", "list what would be deregistered and terminated, change nothing", false)
    .addHelpText("after", examples("synkti down --project-name my-app --dry-run   # what would be terminated", "synkti down --project-name my-app"));
}

export function renderDown(r: DownResult): string {
  const intent = renderIntent(r);
  if (r.found.length === 0) return [...intent, `Project ${r.project} has no instances; nothing to terminate.`].join("\n");
  const ids = r.found.map((f) => `${f.instanceId} (${f.state})`).join(", ");
  if (r.dryRun) return [...renderDeregistration(r.deregistration, true), `Would terminate ${r.found.length} instance(s) of ${r.project}: ${ids}`].join("\n");
  const lines = [...intent, ...renderDeregistration(r.deregistration, false), `Terminated ${r.terminated.length} instance(s) of ${r.project}: ${r.terminated.join(", ") || "-"}`];
  if (r.remaining.length > 0 || r.error) {
    lines.push(`NOT terminated: ${r.remaining.map((x) => `${x.instanceId} (${x.state})`).join(", ") || "unknown"}${r.error ? `: ${r.error}` : ""}`);
    if (r.fix) lines.push(`Run: ${r.fix}`);
  } else {
    lines.push("Permanent resources (bucket, IAM role, instance profile, security groups, load balancer, target group, API key) were not touched.");
  }
  return lines.join("\n");
}

/** Desired 0 comes first, so it is said first: the workers were told not to repair before anything ended. */
function renderIntent(r: DownResult): string[] {
  if (r.dryRun) return [];
  if (r.desired) return [`Desired workers set to 0 (cluster/desired.json): no worker repairs or replaces anything.`];
  return r.desiredProblem ? [`Warning: ${r.desiredProblem}.`] : [];
}

function renderDeregistration(d: DrainReport | null, dryRun: boolean): string[] {
  if (!d) return [];
  if (d.targetGroup === null) return d.warning ? [`Warning: ${d.warning}`] : ["No target group: nothing to deregister."];
  if (d.targets.length === 0 && d.warning === null) return [`No target registered in ${d.targetGroup}: nothing to deregister.`];
  const ids = d.targets.join(", ");
  if (dryRun) return [`Would deregister ${d.targets.length} target(s) from ${d.targetGroup} (${ids}) and wait for their in-flight requests (at most ${d.delaySeconds} s) before terminating.`];
  if (d.warning) return [`Warning: ${d.warning}`];
  return [`Deregistered ${d.targets.length} target(s) from ${d.targetGroup} (${ids}); in-flight requests finished after ${Math.round(d.waitedMs / 1000)} s.`];
}
