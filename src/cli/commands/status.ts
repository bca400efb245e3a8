import { Option, type Command } from "commander";
import type { Clock } from "../../core/clock.js";
import { messageOf, SynktiError } from "../../core/errors.js";
import { parseDuration } from "../parse.js";
import type { FailureRecord } from "../../deployer/logs/record.js";
import type { LoadBalancerStatus } from "../../deployer/fleet/load-balancer-status.js";
import type { ProjectStatus, WorkerStatus } from "../../deployer/fleet/status.js";
import { planNeedsFix, type WorkerPlan } from "../../deployer/fleet/plan.js";
import type { FailoverPhase, FailoverSummary } from "../../deployer/logs/failovers.js";
import { oneLine } from "../../core/printable.js";
import { printResult } from "../output.js";
import { examples } from "../program.js";
import { fleetCommand } from "./fleet-command.js";

export function registerStatus(program: Command): void {
  fleetCommand(program, "status", "the project's workers as AWS lists them now: state, slot, model, zone, notices, health, load balancer target, failover plan; the desired size, empty slots and repair (active, paused, inactive); recent failovers and failures", async ({ project, common, deps, options }) => {
    const [{ projectStatus }, { endpointUrlOverride }] = await Promise.all([import("../../deployer/fleet/status.js"), import("../../deployer/endpoint/url.js")]);
    const urlOverride = endpointUrlOverride();
    const region = typeof options.region === "string" ? options.region : undefined;
    const read = (signal?: AbortSignal) => deps.doing("listing the workers", () => projectStatus(deps.fleet, project, { ...(urlOverride ? { urlOverride } : {}), ...(region ? { region } : {}) }, signal));
    if (options.watch === true) return watch(read, { json: common.output === "json", intervalMs: options.interval as number, clock: deps.clock, region });
    const result = await read();
    printResult(common.output, result, () => renderStatus(result, deps.clock.now(), region));
  })
    .option("--watch", "keep the view live: redrawn in place on a terminal, one JSON document per line (NDJSON) with --output json; Ctrl-C ends it (exit 130)", false)
    .addOption(new Option("--interval <duration>", "with --watch, how often to refresh, e.g. 2s, 10s, 1m").argParser(parseDuration).default(2000, "2s"))
    .addHelpText("after", examples("synkti status --project-name my-app", "synkti status --project-name my-app --output json", "synkti status --project-name my-app --watch --interval 5s", "synkti status --project-name my-app --watch --output json | jq -c '.workers[] | {instanceId, workerState}'"));
}

/** Clear the screen and home the cursor: each view is drawn over the last one. */
const REDRAW = "\u001b[H\u001b[2J";

/**
 * `--watch`: refresh until Ctrl-C (or SIGTERM), then exit 130 as the contract says for an
 * interrupted command (it created nothing, so there is nothing to clean up). On a terminal each view
 * replaces the last; piped, views follow each other. JSON: one compact document per line, so
 * `jq` reads the stream as it comes.
 */
async function watch(read: (signal: AbortSignal) => Promise<ProjectStatus>, o: { json: boolean; intervalMs: number; clock: Clock; region: string | undefined }): Promise<never> {
  const { watchStatus } = await import("../../deployer/fleet/watch.js");
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => controller.abort(new Error(`interrupted by ${name}`));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const tty = process.stdout.isTTY === true;
  try {
    await watchStatus(
      { clock: o.clock },
      read,
      (result) => {
        if (o.json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
        const footer = `Every ${o.intervalMs / 1000}s, updated ${new Date(o.clock.now()).toISOString().slice(11, 19)}Z. Ctrl-C to stop.`;
        process.stdout.write(`${tty ? REDRAW : ""}${renderStatus(result, o.clock.now(), o.region)}\n\n${footer}\n${tty ? "" : "\n"}`);
      },
      (error) => process.stderr.write(`Refresh failed (trying again in ${o.intervalMs / 1000}s): ${oneLine(messageOf(error), 300)}\n`),
      { intervalMs: o.intervalMs, signal: controller.signal },
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  throw new SynktiError("Stopped watching.", { code: "interrupted", kind: "interrupted", silent: true });
}

/** `region`: the --region the operator gave, carried into the command printed for the logs. */
export function renderStatus(result: ProjectStatus, now: number, region?: string): string {
  const lines =
    result.workers.length === 0
      ? [`No workers in project ${result.project}.`]
      : [`${result.workers.length} worker${result.workers.length === 1 ? "" : "s"} in project ${result.project}:`, renderWorkers(result.workers, now, result.loadBalancer)];
  return [...lines, ...renderLoadBalancer(result), ...renderDesired(result), "", ...renderFailovers(result, now), ...renderFailures(result, now, region)].join("\n");
}

/** The desired size and its empty slots, then whether the workers repair, and when paused, why and the fix. */
export function renderDesired(result: ProjectStatus): string[] {
  const d = result.desired;
  const r = result.repair;
  const n = result.emptySlots.length;
  // Paused, nothing fills them until the fix below: saying the workers do would send the operator away.
  const them = n === 1 ? "it" : "them";
  const who = r.state === "paused" ? `repair is paused: nothing fills ${them} until the fix below` : `the workers' repair fills ${them}`;
  const lines = d
    ? [`Desired: ${d.workers} worker${d.workers === 1 ? "" : "s"} (set at ${d.setAt})${n > 0 ? `; empty slot${n === 1 ? "" : "s"}: ${result.emptySlots.join(", ")} (${who})` : ""}`]
    : [`Desired: not set (${oneLine(result.desiredUnavailable ?? "unknown", 300)})`];
  if (r.state === "paused" && r.lastFailure) {
    const f = r.lastFailure;
    lines.push(`Repair: PAUSED after ${r.failuresInARow} replacements in a row failed to serve; the last, ${f.instanceId} (slot ${f.slot}) at ${f.at}: ${oneLine(f.reason, 300)}`);
    if (r.fix) lines.push(`  Fix: ${r.fix}`);
  } else {
    lines.push(`Repair: ${r.state}${r.unavailable ? ` (${oneLine(r.unavailable, 300)})` : ""}`);
  }
  return lines;
}

/**
 * A plain table (no colours: it is often piped or pasted into an issue). Pending spot notices come
 * first, on their own lines, so a worker two minutes from its reclaim never reads as just healthy.
 * ENDPOINT is where the worker answers (its published tag), not EC2's private IP, which in the
 * local cloud is moto's invention and on AWS only reachable inside the VPC. TARGET (when the load
 * balancer could be read) is what it thinks of the worker: healthy, initial, draining, ... or "-"
 * when the worker is not registered; why a target is not healthy goes below the table.
 */
export function renderWorkers(workers: WorkerStatus[], now: number = Date.now(), lb: LoadBalancerStatus | null = null): string {
  const noticed = workers.filter((w) => w.notice !== null);
  const target = (id: string) => lb?.targets.find((t) => t.instanceId === id)?.state ?? "-";
  const planned = workers.some((w) => w.plan !== null);
  const slotted = workers.some((w) => w.slot !== null);
  const header = ["INSTANCE", "STATE", "WORKER", ...(slotted ? ["SLOT"] : []), "MODEL", "ZONE", "TYPE", "UPTIME", "ENDPOINT", "HEALTH", ...(lb ? ["TARGET"] : []), ...(planned ? ["PLAN"] : []), ...(noticed.length > 0 ? ["NOTICE"] : []), "LAUNCH"];
  const rows = workers.map((w) => [
    w.instanceId,
    w.stopping ? `${w.state}*` : w.state,
    w.workerState ?? "-",
    ...(slotted ? [w.slot === null ? "-" : String(w.slot)] : []),
    w.model ?? "-",
    w.availabilityZone ?? "-",
    w.instanceType ?? "-",
    w.uptimeSeconds === null ? "-" : duration(w.uptimeSeconds),
    w.endpoint ?? "-",
    w.health,
    ...(lb ? [target(w.instanceId)] : []),
    ...(planned ? [planCell(w.plan)] : []),
    ...(noticed.length > 0 ? [noticeCell(w.notice, now)] : []),
    w.launchId ?? "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const notices = noticed.map((w) => `NOTICE ${w.instanceId}: ${noticeText(w.notice!, now)}`);
  // A plan that is not ready is flagged up front too: found now, it is a fix; found on a notice, a lost worker.
  const plans = workers.flatMap((w) => (planNeedsFix(w.plan) ? planLines(w.instanceId, w.plan) : []));
  const notes = [
    ...(workers.some((w) => w.health === "unreachable")
      ? ["unreachable: its endpoint does not answer from here (on AWS, a private address inside the VPC); WORKER is what it last published on its own tags"]
      : []),
    ...(workers.some((w) => w.stopping) ? ["* being stopped by synkti down"] : []),
  ];
  return [...notices, ...plans, line(header), ...rows.map(line), ...notes].join("\n");
}

/** PLAN: ready (with the pool when the worker said it), pending (starting), stopping, or NOT READY. */
function planCell(plan: WorkerPlan | null): string {
  if (plan === null) return "-";
  if (plan.ready) return plan.pool ? `ready ${plan.pool}` : "ready";
  if (plan.code === "pending" || plan.code === "stopping") return plan.code;
  return `NOT READY (${plan.code ?? "?"})`;
}

function planLines(instanceId: string, plan: WorkerPlan): string[] {
  const lines = [`PLAN ${instanceId} not ready: ${oneLine(plan.problem ?? plan.code ?? "unknown problem", 300)}`];
  if (plan.fix) lines.push(`  Fix: ${oneLine(plan.fix, 300)}`);
  return lines;
}

/**
 * Each recent failover: doomed -> replacement, its trigger and outcome, the total, then each phase
 * with its start and end relative to the failover's first moment (phases overlap: DRAIN runs
 * alongside SELECT and SPAWN). Read from the bucket, so it is there after the doomed one is gone.
 */
function renderFailovers(result: ProjectStatus, now: number): string[] {
  if (result.failoversUnavailable !== null && result.failovers.length === 0) return [`Recent failovers: unavailable (${oneLine(result.failoversUnavailable, 300)}).`];
  if (result.failovers.length === 0) return [];
  const lines = ["Recent failovers (last 24 h, newest first):", ...result.failovers.flatMap((f) => failoverLines(f, now))];
  if (result.failoversUnavailable !== null) lines.push(`  (${oneLine(result.failoversUnavailable, 300)})`);
  return lines;
}

function failoverLines(f: FailoverSummary, now: number): string[] {
  const updated = Date.parse(f.updatedAt);
  if (f.phases === null) return [`  ${f.doomed}  ${clockTime(updated, now)} (${relative(updated, now)})  ${f.problem ?? "unreadable"}`];
  const total = f.totalSeconds === null ? (f.status === "running" ? "in progress" : "total -") : `total ${f.totalSeconds.toFixed(1)}s`;
  const head = `  ${f.doomed} -> ${f.replacement ?? "(no replacement yet)"}  ${f.trigger ?? "-"}  ${f.status}  ${total}  (${clockTime(updated, now)}, ${relative(updated, now)})`;
  const starts = Object.values(f.phases).flatMap((p) => (p.startedAt ? [Date.parse(p.startedAt)] : []));
  const origin = starts.length > 0 ? Math.min(...starts) : updated;
  const offset = (iso: string | null) => (iso === null ? null : `${((Date.parse(iso) - origin) / 1000).toFixed(1)}s`);
  const phases = (Object.entries(f.phases) as [string, FailoverPhase][]).map(([name, p]) => {
    const span = p.startedAt === null ? "" : p.endedAt === null ? `+${offset(p.startedAt)} ..` : `+${offset(p.startedAt)} .. +${offset(p.endedAt)}`;
    return `    ${name.toUpperCase().padEnd(6)}  ${p.state.padEnd(11)}  ${span.padEnd(17)}  ${p.detail ?? ""}`.trimEnd();
  });
  return [head, ...phases];
}

/** The URL, then each target that is not healthy with AWS's reason, and targets that are no live worker. */
function renderLoadBalancer(result: ProjectStatus): string[] {
  const lb = result.loadBalancer;
  if (!lb) return result.loadBalancerUnavailable === null ? [] : [`Load balancer: unavailable (${oneLine(result.loadBalancerUnavailable, 300)}).`];
  const counts = new Map<string, number>();
  for (const t of lb.targets) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const summary = lb.targets.length === 0 ? "no target registered" : [...counts].map(([state, n]) => `${n} ${state}`).join(", ");
  const workerIds = new Set(result.workers.map((w) => w.instanceId));
  const why = lb.targets
    .filter((t) => (t.state !== "healthy" && t.reason !== null) || !workerIds.has(t.instanceId))
    .map((t) => `  TARGET ${t.instanceId} ${t.state}${t.reason ? `: ${t.reason}` : ""}${t.description ? ` (${t.description})` : ""}${workerIds.has(t.instanceId) ? "" : " [not a live worker of this project]"}`);
  return [`Load balancer: ${lb.url}  (${summary})`, ...why];
}

function renderFailures(result: ProjectStatus, now: number, region: string | undefined): string[] {
  if (result.failuresUnavailable !== null && result.failures.length === 0) return [`Recent failures: unavailable (${oneLine(result.failuresUnavailable, 300)}).`];
  if (result.failures.length === 0) return ["No failures recorded in the last 24 h."];
  const lines = [`Recent failures (last 24 h, newest first):`, ...result.failures.map((f) => `  ${failureLine(f, now)}`)];
  if (result.failuresUnavailable !== null) lines.push(`  (${oneLine(result.failuresUnavailable, 300)})`);
  lines.push(`Run: synkti logs --project-name ${result.project}${region ? ` --region ${region}` : ""} <instance id>   # the record and the boot log`);
  return lines;
}

function failureLine(f: FailureRecord, now: number): string {
  const exit = f.exitCode === null ? "no exit code" : `exit ${f.exitCode}`;
  return `${f.instanceId}  ${clockTime(Date.parse(f.at), now)} (${relative(Date.parse(f.at), now)})  ${exit}  ${oneLine(f.reason, 160)}`;
}

/**
 * "reclaim at 12:34:56Z (in 1m52s)". SynktiNotice is a spot notice's termination time (ahead), or
 * the time AWS issued a rebalance recommendation (behind: it names no reclaim time), see
 * noticeDetail in src/deployer/fleet/status.ts: a past time is a risk, not a reclaim "3m ago".
 */
function noticeText(notice: string, now: number): string {
  if (notice === "unknown") return "spot notice pending (its time could not be read): the instance is going away";
  const at = Date.parse(notice);
  if (at <= now) return `interruption risk since ${clockTime(at, now)} (${relative(at, now)}): a rebalance recommendation, or a reclaim already due`;
  return `reclaim at ${clockTime(at, now)} (${relative(at, now)})`;
}

function noticeCell(notice: string | null, now: number): string {
  if (notice === null) return "-";
  if (notice === "unknown") return "pending";
  const at = Date.parse(notice);
  return at > now ? `reclaim ${relative(at, now)}` : `risk ${relative(at, now)}`;
}

/** HH:MM:SSZ on the same UTC day as now, else the full date and time. */
function clockTime(at: number, now: number): string {
  const iso = new Date(at).toISOString();
  return iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? `${iso.slice(11, 19)}Z` : `${iso.slice(0, 19)}Z`;
}

/** "in 1m52s", "3m05s ago", or "now". */
function relative(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  if (seconds === 0) return "now";
  return seconds > 0 ? `in ${duration(seconds)}` : `${duration(-seconds)} ago`;
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
