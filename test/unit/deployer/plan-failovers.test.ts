/**
 * `synkti status` on the failover: each worker's standing plan (its live answer where it can be
 * asked, else its SynktiPlan tag, so a laptop outside the VPC still sees it), flagged with its fix
 * when not ready; and the recent failovers from `checkpoints/failovers/`, read bounded and cleaned.
 */
import { describe, expect, it } from "vitest";
import { renderStatus } from "../../../src/cli/commands/status.js";
import { silentLogger } from "../../../src/core/log.js";
import { fleetStatus, projectStatus } from "../../../src/deployer/fleet/status.js";
import { FAILOVER_RECORD_MAX_BYTES, recentFailovers } from "../../../src/deployer/logs/failovers.js";
import { projectNames } from "../../../src/infra/names.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";
import { FakeObjects } from "./fake-objects.js";
import { FakeConditional } from "./fake-conditional.js";
import { FakeLoadBalancer } from "./fake-load-balancer.js";

const worker = { SynktiCluster: "proj", SynktiRole: "worker", SynktiLaunch: "l-1", SynktiState: "serving" };
const NOW = Date.parse("2026-11-29T12:33:04Z");
const names = projectNames("proj");
const DOOMED = "i-0aaaaaaaaaaaaaaa1";
const REPLACEMENT = "i-0bbbbbbbbbbbbbbb2";
const unreachable = async () => ({ health: "unreachable" as const, detail: "connect ECONNREFUSED" });

const phase = (state: string, startedAt: string | null, endedAt: string | null, detail: string | null = null) => ({ state, startedAt, endedAt, detail });
const timeline = (over: Record<string, unknown> = {}) => ({
  doomed: DOOMED,
  status: "retired",
  trigger: "spot-interruption",
  deadlineAt: "2026-11-29T12:32:00.000Z",
  replacement: REPLACEMENT,
  phases: {
    drain: phase("done", "2026-11-29T12:30:00.000Z", "2026-11-29T12:30:12.500Z", "0 in flight"),
    select: phase("done", "2026-11-29T12:30:00.000Z", "2026-11-29T12:30:00.300Z", "g5.xlarge/us-east-1b"),
    spawn: phase("done", "2026-11-29T12:30:00.300Z", "2026-11-29T12:30:01.100Z", `launched ${REPLACEMENT}`),
    health: phase("done", "2026-11-29T12:30:01.100Z", "2026-11-29T12:31:40.000Z", "serving, target healthy"),
  },
  ...over,
});

describe("the standing plan in synkti status", () => {
  it("from the tag alone (worker unreachable): a plan not ready is flagged up front with the fix", async () => {
    const ec2 = new FakeEc2();
    const bad = ec2.add("us-east-1a", { ...worker, SynktiEndpoint: "10.0.1.5:8080", SynktiPlan: "denied" });
    const good = ec2.add("us-east-1b", { ...worker, SynktiEndpoint: "10.0.1.6:8080", SynktiPlan: "ready" });
    const result = await fleetStatus({ ec2, clock: instantClock(NOW), log: silentLogger, askHealth: unreachable }, "proj");
    expect(result.workers.find((w) => w.instanceId === bad)!.plan).toMatchObject({ ready: false, code: "denied", fix: "synkti infra up --project-name proj", source: "tag" });
    expect(result.workers.find((w) => w.instanceId === good)!.plan).toMatchObject({ ready: true, source: "tag" });
    const text = renderStatus({ ...result, failures: [], failuresUnavailable: null, failovers: [], failoversUnavailable: null, loadBalancer: null, loadBalancerUnavailable: null, desired: null, desiredUnavailable: null, emptySlots: [], repair: { state: "inactive", failuresInARow: 0, lastFailure: null, fix: null, unavailable: null } }, NOW);
    const lines = text.split("\n");
    expect(lines[1]).toBe(`PLAN ${bad} not ready: a DryRun of its replacement's launch was refused: the worker policy does not allow it`);
    expect(lines[2]).toBe("  Fix: synkti infra up --project-name proj");
    expect(lines[3]).toMatch(/HEALTH +PLAN +LAUNCH$/);
    expect(lines.find((l) => l.startsWith(bad))).toMatch(/NOT READY \(denied\) +l-1$/);
    expect(lines.find((l) => l.startsWith(good))).toMatch(/unreachable +ready +l-1$/);
  });

  it("the live answer wins over the tag and its text is cleaned; a starting worker is pending, not flagged", async () => {
    const ec2 = new FakeEc2();
    const live = ec2.add("us-east-1a", { ...worker, SynktiEndpoint: "10.0.1.5:8080", SynktiPlan: "ready" });
    const starting = ec2.add("us-east-1b", { ...worker, SynktiEndpoint: "10.0.1.6:8080", SynktiPlan: "pending" });
    const askHealth = async (id: string) =>
      id === live
        ? { health: "healthy" as const, detail: null, plan: { ready: false, pool: "g5.xlarge/us-east-1b", verifiedAt: null, code: "no-pool", problem: "no pool\u001b[2J left", fix: "synkti infra up" } }
        : unreachable();
    const result = await fleetStatus({ ec2, clock: instantClock(NOW), log: silentLogger, askHealth }, "proj");
    expect(result.workers.find((w) => w.instanceId === live)!.plan).toMatchObject({ ready: false, code: "no-pool", source: "live" });
    const text = renderStatus({ ...result, failures: [], failuresUnavailable: null, failovers: [], failoversUnavailable: null, loadBalancer: null, loadBalancerUnavailable: null, desired: null, desiredUnavailable: null, emptySlots: [], repair: { state: "inactive", failuresInARow: 0, lastFailure: null, fix: null, unavailable: null } }, NOW);
    expect(text).toContain(`PLAN ${live} not ready: no pool left`);
    expect(text).not.toContain("\u001b");
    expect(text).not.toContain(`PLAN ${starting}`);
    expect(text.split("\n").find((l) => l.startsWith(starting))).toMatch(/ pending +l-1$/);
  });
});

describe("recent failovers", () => {
  it("reads the newest 5 timelines of the past 24 h: doomed -> replacement, each phase, the total", async () => {
    const s3 = new FakeObjects(names.bucket);
    s3.put(names.failoverKey(DOOMED), JSON.stringify(timeline()), new Date(NOW - 60_000));
    for (let n = 1; n <= 6; n++) {
      const id = `i-${n.toString(16).padStart(17, "0")}`;
      s3.put(names.failoverKey(id), JSON.stringify(timeline({ doomed: id })), new Date(NOW - n * 3600_000));
    }
    s3.put(names.failoverKey("i-0ccccccccccccccc3"), JSON.stringify(timeline({ doomed: "i-0ccccccccccccccc3" })), new Date(NOW - 25 * 3600_000));
    const { failovers, unavailable } = await recentFailovers({ objects: s3, clock: instantClock(NOW) }, names);
    expect(unavailable).toBeNull();
    expect(failovers).toHaveLength(5);
    expect(failovers[0]).toMatchObject({ doomed: DOOMED, replacement: REPLACEMENT, trigger: "spot-interruption", status: "retired", totalSeconds: 100, problem: null });
    expect(failovers[0]!.phases!.drain).toEqual(phase("done", "2026-11-29T12:30:00.000Z", "2026-11-29T12:30:12.500Z", "0 in flight"));
    expect(s3.reads).toHaveLength(5);
  });

  it("says why a record cannot be believed (too big, another instance's, bad shape), and cleans its text", async () => {
    const s3 = new FakeObjects(names.bucket);
    s3.put(names.failoverKey("i-00000000000000001"), "x".repeat(FAILOVER_RECORD_MAX_BYTES + 1), new Date(NOW - 1000));
    s3.put(names.failoverKey("i-00000000000000002"), JSON.stringify(timeline()), new Date(NOW - 2000));
    s3.put(names.failoverKey("i-00000000000000003"), JSON.stringify(timeline({ doomed: "i-00000000000000003", replacement: "../etc" })), new Date(NOW - 3000));
    s3.put(names.failoverKey(DOOMED), JSON.stringify(timeline({ trigger: "spot\u001b]0;pwned\u0007-interruption" })), new Date(NOW - 4000));
    const { failovers } = await recentFailovers({ objects: s3, clock: instantClock(NOW) }, names);
    expect(failovers.map((f) => f.problem)).toEqual([
      `unreadable failover timeline: it is ${FAILOVER_RECORD_MAX_BYTES + 1} bytes, more than a timeline's ${FAILOVER_RECORD_MAX_BYTES}`,
      `unreadable failover timeline: it names ${DOOMED}, not i-00000000000000002`,
      "unreadable failover timeline: replacement: replacement is not an EC2 instance id",
      null,
    ]);
    expect(failovers[3]!.trigger).toBe("spot-interruption");
  });

  it("status shows them phase by phase; a running one has no total yet; no bucket says why and workers still show", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", worker);
    const objects = new FakeObjects(names.bucket);
    const running = timeline({ status: "running", replacement: null, phases: { ...timeline().phases, spawn: phase("running", "2026-11-29T12:30:00.300Z", null), health: phase("pending", null, null) } });
    objects.put(names.failoverKey(DOOMED), JSON.stringify(running), new Date(NOW - 1000));
    const clock = instantClock(NOW);
    const deps = { ec2, objects, clock, lb: new FakeLoadBalancer(clock), conditional: new FakeConditional(names.bucket), log: silentLogger, askHealth: unreachable };
    const status = await projectStatus(deps, "proj");
    const text = renderStatus(status, NOW);
    expect(text).toContain(`Recent failovers (last 24 h, newest first):\n  ${DOOMED} -> (no replacement yet)  spot-interruption  running  in progress`);
    expect(text).toMatch(/ {4}DRAIN +done +\+0\.0s \.\. \+12\.5s +0 in flight\n/);
    expect(text).toMatch(/ {4}SPAWN +running +\+0\.3s \.\.\n/);
    expect(text).toMatch(/ {4}HEALTH +pending\n/);

    const missing = await projectStatus({ ...deps, objects: new FakeObjects("another-bucket") }, "proj");
    expect(missing.workers).toHaveLength(1);
    expect(missing.failoversUnavailable).toBe("bucket proj-models does not exist (synkti infra up --project-name proj)");
    expect(renderStatus(missing, NOW)).toContain("Recent failovers: unavailable (bucket proj-models does not exist");
  });
});
