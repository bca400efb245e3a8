/**
 * What an operator reads: a pending notice up front with its time and countdown, the endpoint a
 * worker answers at (not moto's invented private IP), the worker's own state, recent failures
 * with the command to see more, and a logs page.
 */
import { describe, expect, it } from "vitest";
import { renderLogs } from "../../../src/cli/commands/logs.js";
import { renderStatus } from "../../../src/cli/commands/status.js";
import type { ProjectStatus, WorkerStatus } from "../../../src/deployer/fleet/status.js";

const NOW = Date.parse("2026-11-29T12:33:04Z");
const base: WorkerStatus = {
  instanceId: "i-0aaaaaaaaaaaaaaa1",
  state: "running",
  availabilityZone: "us-east-1a",
  instanceType: "g5.xlarge",
  launchTime: "2026-11-29T12:00:00.000Z",
  uptimeSeconds: 1984,
  privateIp: "10.0.7.9",
  market: "spot",
  health: "unreachable",
  healthDetail: "connect ECONNREFUSED; its own tag says serving",
  launchId: "l-1",
  stopping: false,
  endpoint: "127.0.0.2:8080",
  workerState: "serving",
  notice: null,
  model: "tiny",
  slot: null,
  replaces: null,
  plan: null,
};
const status = (workers: WorkerStatus[], extra: Partial<ProjectStatus> = {}): ProjectStatus => ({ project: "demo", workers, failures: [], failuresUnavailable: null, failovers: [], failoversUnavailable: null, loadBalancer: null, loadBalancerUnavailable: null, desired: null, desiredUnavailable: "no cluster/desired.json", emptySlots: [], repair: { state: "inactive", failuresInARow: 0, lastFailure: null, fix: null, unavailable: null }, ...extra });

describe("status text", () => {
  it("shows model, type, zone, the worker's own state and its endpoint; never moto's private IP", () => {
    const text = renderStatus(status([base]), NOW);
    expect(text).toMatch(/^1 worker in project demo:\nINSTANCE +STATE +WORKER +MODEL +ZONE +TYPE +UPTIME +ENDPOINT +HEALTH +LAUNCH\n/);
    expect(text).toMatch(/i-0aaaaaaaaaaaaaaa1 +running +serving +tiny +us-east-1a +g5\.xlarge +33m04s +127\.0\.0\.2:8080 +unreachable +l-1/);
    expect(text).not.toContain("10.0.7.9");
    expect(text).toContain("unreachable: its endpoint does not answer from here");
    expect(text).toContain("No failures recorded in the last 24 h.");
  });

  it("puts a pending notice first: 'reclaim at 12:34:56Z (in 1m52s)', and in the worker's row", () => {
    const doomed = { ...base, instanceId: "i-0bbbbbbbbbbbbbbb2", health: "healthy" as const, workerState: "draining" as const, notice: "2026-11-29T12:34:56.000Z" };
    const lines = renderStatus(status([base, doomed]), NOW).split("\n");
    expect(lines[1]).toBe("NOTICE i-0bbbbbbbbbbbbbbb2: reclaim at 12:34:56Z (in 1m52s)");
    expect(lines[2]).toMatch(/HEALTH +NOTICE +LAUNCH$/);
    expect(lines.find((l) => l.startsWith("i-0bbbbbbbbbbbbbbb2"))).toMatch(/draining .* healthy +reclaim in 1m52s +l-1$/);
    expect(lines.find((l) => l.startsWith("i-0aaaaaaaaaaaaaaa1"))).toMatch(/unreachable +- +l-1$/);
  });

  it("words a past notice time (a rebalance recommendation's issue time) as a risk, never 'reclaim ... ago'", () => {
    const hinted = { ...base, instanceId: "i-0bbbbbbbbbbbbbbb2", notice: "2026-11-29T12:30:00.000Z" };
    const lines = renderStatus(status([hinted]), NOW).split("\n");
    expect(lines[1]).toBe("NOTICE i-0bbbbbbbbbbbbbbb2: interruption risk since 12:30:00Z (3m04s ago): a rebalance recommendation, or a reclaim already due");
    expect(lines.find((l) => l.startsWith("i-0bbbbbbbbbbbbbbb2"))).toMatch(/unreachable +risk 3m04s ago +l-1$/);
    expect(lines.join("\n")).not.toContain("reclaim 3m04s ago");
  });

  it("with a load balancer: its URL, a TARGET column per worker, and why a target is not healthy", () => {
    const other = { ...base, instanceId: "i-0bbbbbbbbbbbbbbb1" };
    const loadBalancer = {
      url: "http://demo-synkti-1.us-east-1.elb.amazonaws.com",
      targets: [
        { instanceId: base.instanceId, state: "healthy", reason: null, description: null },
        { instanceId: "i-0ccccccccccccccc2", state: "draining", reason: "Target.DeregistrationInProgress", description: "Target deregistration is in progress" },
      ],
    };
    const lines = renderStatus(status([base, other], { loadBalancer }), NOW).split("\n");
    expect(lines[1]).toMatch(/^INSTANCE +STATE +WORKER +MODEL +ZONE +TYPE +UPTIME +ENDPOINT +HEALTH +TARGET +LAUNCH$/);
    expect(lines[2]).toMatch(new RegExp(`^${base.instanceId} .* unreachable +healthy +l-1$`));
    expect(lines[3]).toMatch(/^i-0bbbbbbbbbbbbbbb1 .* unreachable +- +l-1$/);
    expect(lines).toContain("Load balancer: http://demo-synkti-1.us-east-1.elb.amazonaws.com  (1 healthy, 1 draining)");
    expect(lines).toContain("  TARGET i-0ccccccccccccccc2 draining: Target.DeregistrationInProgress (Target deregistration is in progress) [not a live worker of this project]");

    const none = renderStatus(status([base], { loadBalancerUnavailable: "no load balancer demo-synkti (synkti infra up --project-name demo)" }), NOW);
    expect(none).not.toContain("TARGET");
    expect(none).toContain("Load balancer: unavailable (no load balancer demo-synkti (synkti infra up --project-name demo)).");
  });

  it("lists recent failures with a one-line reason and the logs command; or says why they are unavailable", () => {
    const failure = { instanceId: "i-0ccccccccccccccc3", at: "2026-11-29T11:03:04.000Z", exitCode: 1, reason: "binary SHA-256 mismatch:\nexpected a, got b" };
    const text = renderStatus(status([], { failures: [failure] }), NOW);
    expect(text).toBe(
      [
        "No workers in project demo.",
        "Desired: not set (no cluster/desired.json)",
        "Repair: inactive",
        "",
        "Recent failures (last 24 h, newest first):",
        "  i-0ccccccccccccccc3  11:03:04Z (1h30m ago)  exit 1  binary SHA-256 mismatch: expected a, got b",
        "Run: synkti logs --project-name demo <instance id>   # the record and the boot log",
      ].join("\n"),
    );
    // The region the operator gave travels into the command: the records are in that region's bucket.
    expect(renderStatus(status([], { failures: [failure] }), NOW, "eu-west-1")).toContain("Run: synkti logs --project-name demo --region eu-west-1 <instance id>");
    const unavailable = renderStatus(status([base], { failuresUnavailable: "bucket demo-models does not exist (synkti infra up --project-name demo)" }), NOW);
    expect(unavailable).toContain("Recent failures: unavailable (bucket demo-models does not exist (synkti infra up --project-name demo)).");
  });
});

describe("logs text", () => {
  it("prints the failure, then the log, saying when only its tail was kept", () => {
    const text = renderLogs({
      instanceId: "i-0ccccccccccccccc3",
      failure: { instanceId: "i-0ccccccccccccccc3", at: "2026-11-29T11:03:04.000Z", exitCode: null, reason: "weights do not match" },
      failureUnreadable: null,
      log: "boot 1\nboot 2\n",
      logSize: 200 * 1024,
      logCut: 64 * 1024,
    });
    expect(text).toBe(["i-0ccccccccccccccc3 failed at 2026-11-29T11:03:04.000Z (no exit code):", "  weights do not match", "", "Log (its last 64 KiB of 200 KiB):", "boot 1", "boot 2"].join("\n"));
  });

  it("says when no failure was recorded, or when the record cannot be believed", () => {
    const none = { instanceId: "i-0ccccccccccccccc3", failure: null, failureUnreadable: null, log: null, logSize: null, logCut: null };
    expect(renderLogs({ ...none, log: "x\n", logSize: 2 })).toBe("i-0ccccccccccccccc3: no failure recorded (it has not failed, or it ended before it could say why).\n\nLog:\nx");
    expect(renderLogs({ ...none, failureUnreadable: "it is not JSON" })).toMatch(/its failure record cannot be believed \(it is not JSON\)[\s\S]*No log was stored\.$/);
  });

  it("the desired size, each worker's slot, the empty slots, and repair active", () => {
    const text = renderStatus(status([{ ...base, slot: 0 }], { desired: { workers: 3, setAt: "2026-11-29T12:00:00.000Z" }, desiredUnavailable: null, emptySlots: [1, 2], repair: { state: "active", failuresInARow: 1, lastFailure: null, fix: null, unavailable: null } }), NOW);
    expect(text).toMatch(/\nINSTANCE +STATE +WORKER +SLOT +MODEL /);
    expect(text).toMatch(/\ni-0aaaaaaaaaaaaaaa1 +running +serving +0 +tiny /);
    expect(text).toContain("\nDesired: 3 workers (set at 2026-11-29T12:00:00.000Z); empty slots: 1, 2 (the workers' repair fills them)\nRepair: active\n");
  });

  it("repair paused: the last failure's reason and the fix (read the logs, then set the desired size again)", () => {
    const fix = "synkti logs --project-name demo i-0ddddddddddddddd4   # fix the cause, then: synkti --project-name demo --model tiny --workers 2 --yes";
    const repair = { state: "paused" as const, failuresInARow: 3, lastFailure: { instanceId: "i-0ddddddddddddddd4", slot: 1, at: "2026-11-29T12:20:00.000Z", reason: "model server exited 1: CUDA out of memory" }, fix, unavailable: null };
    const text = renderStatus(status([base], { desired: { workers: 2, setAt: "2026-11-29T12:00:00.000Z" }, desiredUnavailable: null, emptySlots: [1], repair }), NOW);
    expect(text).toContain("\nDesired: 2 workers (set at 2026-11-29T12:00:00.000Z); empty slot: 1 (repair is paused: nothing fills it until the fix below)\n");
    expect(text).toContain(
      "Repair: PAUSED after 3 replacements in a row failed to serve; the last, i-0ddddddddddddddd4 (slot 1) at 2026-11-29T12:20:00.000Z: model server exited 1: CUDA out of memory\n" + `  Fix: ${fix}`,
    );
  });
});
