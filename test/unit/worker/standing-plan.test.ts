/**
 * The standing plan: a worker knows, before any notice, whether its replacement could be launched
 * (SELECT over what it sees, then a DryRun of the very request), refreshes that on a jittered
 * schedule that grows with the cluster, and says what is wrong and the fix when it could not.
 */
import { describe, expect, it } from "vitest";
import type { PlanStatus } from "../../../src/cluster/status-document.js";
import type { LaunchRequest, PoolObservation } from "../../../src/failover/types.js";
import { planIntervalMs, StandingPlan, type StandingPlanDeps } from "../../../src/worker/failover/standing-plan.js";
import { FakeClock } from "../../support/fake-clock.js";
import { captureLogs } from "../../support/log-capture.js";

const SELF = { instanceId: "i-0aaaaaaaaaaaaaaa1", instanceType: "g5.xlarge", zone: "us-east-1a" };
const seen = (over: Partial<PoolObservation> = {}): PoolObservation => ({ peers: [], lbZones: ["us-east-1a", "us-east-1b", "us-east-1c"], recentFailures: [], stopping: false, ...over });

function plan(over: Partial<StandingPlanDeps> = {}, random = () => 0.5) {
  const clock = new FakeClock();
  const dryRuns: LaunchRequest[] = [];
  const changes: PlanStatus[] = [];
  const deps: StandingPlanDeps = {
    clock,
    random,
    log: captureLogs().log,
    clusterSize: () => 3,
    observePools: async () => seen(),
    dryRun: async (request) => {
      dryRuns.push(request);
      return { allowed: true };
    },
    onChange: (p) => changes.push(p),
    ...over,
  };
  return { clock, dryRuns, changes, plan: new StandingPlan(deps, { project: "demo", self: SELF, instanceTypes: ["g5.xlarge"], failureMemoryMs: 600_000 }) };
}

describe("standing plan refresh schedule", () => {
  it("is max(5 min, cluster size x 10 s), jittered by +-20 %", () => {
    expect(planIntervalMs(3, () => 0.5)).toBe(300_000);
    expect(planIntervalMs(100, () => 0.5)).toBe(1_000_000);
    expect(planIntervalMs(3, () => 0)).toBe(240_000);
    expect(planIntervalMs(3, () => 0.999999)).toBeCloseTo(360_000, -1);
    expect(planIntervalMs(0, () => 0.5)).toBe(300_000);
  });

  it("checks once soon after start, then every jittered interval, and stops when told", async () => {
    const t = plan({}, () => 0.5);
    const stop = new AbortController();
    const running = t.plan.run(stop.signal);
    await t.clock.advance(14_999);
    expect(t.dryRuns).toHaveLength(0);
    await t.clock.advance(1); // first check at 30 s x 0.5
    expect(t.dryRuns).toHaveLength(1);
    await t.clock.advance(299_999);
    expect(t.dryRuns).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.dryRuns).toHaveLength(2);
    stop.abort();
    await running;
    await t.clock.advance(3_600_000);
    expect(t.dryRuns).toHaveLength(2);
  });

  it("spreads workers: different random draws refresh at different times", async () => {
    const early = plan({}, () => 0.1);
    const late = plan({}, () => 0.9);
    const stop = new AbortController();
    void early.plan.run(stop.signal);
    void late.plan.run(stop.signal);
    await early.clock.advance(20_000);
    await late.clock.advance(20_000);
    expect([early.dryRuns.length, late.dryRuns.length]).toEqual([1, 0]); // first checks at 3 s and 27 s
    await early.clock.advance(236_000);
    await late.clock.advance(236_000);
    // then every 252 s (0.84 x 5 min) and 348 s (1.16 x 5 min): at 255 s one has checked twice
    expect([early.dryRuns.length, late.dryRuns.length]).toEqual([2, 1]);
    stop.abort();
  });
});

describe("standing plan outcome", () => {
  it("ready: the pool SELECT picks (never its own) and a DryRun of the exact replacement request", async () => {
    const t = plan({ observePools: async () => seen({ peers: [{ instanceType: "g5.xlarge", zone: "us-east-1b" }] }) });
    expect(t.plan.status()).toMatchObject({ ready: false, code: "pending" });
    const out = await t.plan.refresh(new AbortController().signal);
    expect(out).toEqual({ ready: true, pool: "g5.xlarge/us-east-1c", verifiedAt: "2026-01-01T00:00:00.000Z", code: null, problem: null, fix: null });
    expect(t.dryRuns[0]).toMatchObject({ candidate: { instanceType: "g5.xlarge", zone: "us-east-1c", market: "spot" }, launchId: `r-${SELF.instanceId}`, tags: { SynktiReplaces: SELF.instanceId } });
    expect(t.changes).toHaveLength(1);
  });

  it("not ready when the DryRun is refused: the problem and the infra up fix", async () => {
    const t = plan({ dryRun: async () => ({ allowed: false, reason: "UnauthorizedOperation: not allowed to ec2:RunInstances" }) });
    const out = await t.plan.refresh(new AbortController().signal);
    expect(out).toMatchObject({ ready: false, code: "denied", pool: "g5.xlarge/us-east-1b", fix: "synkti infra up --project-name demo" });
    expect(out.problem).toContain("UnauthorizedOperation");
  });

  it("not ready when no zone but its own offers the type: says so, with the instance-types fix", async () => {
    const t = plan({ observePools: async () => seen({ lbZones: ["us-east-1a"] }) });
    const out = await t.plan.refresh(new AbortController().signal);
    expect(out).toMatchObject({ ready: false, code: "no-pool", pool: null });
    expect(out.fix).toContain("--instance-types g5.xlarge,");
    expect(t.dryRuns).toHaveLength(0);
  });

  it("not ready when the security group is gone; unobservable when AWS does not answer", async () => {
    const gone = plan({ observePools: async () => Promise.reject(new Error("security group synkti-demo-workers tagged for demo not found")) });
    expect(await gone.plan.refresh(new AbortController().signal)).toMatchObject({ ready: false, code: "no-template", fix: "synkti infra up --project-name demo" });
    const down = plan({ dryRun: async () => Promise.reject(Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError" })) });
    const out = await down.plan.refresh(new AbortController().signal);
    expect(out).toMatchObject({ ready: false, code: "unobservable", fix: `synkti logs ${SELF.instanceId} --project-name demo` });
  });

  it("keeps when it was last verified after it turns not ready, and tells only on a change", async () => {
    let allowed = true;
    const t = plan({ dryRun: async () => (allowed ? { allowed: true } : { allowed: false, reason: "denied" }) });
    const signal = new AbortController().signal;
    await t.plan.refresh(signal);
    await t.clock.advance(60_000);
    await t.plan.refresh(signal);
    expect(t.changes).toHaveLength(1);
    allowed = false;
    const out = await t.plan.refresh(signal);
    expect(out).toMatchObject({ ready: false, verifiedAt: "2026-01-01T00:01:00.000Z" });
    expect(t.changes.map((c) => c.code)).toEqual([null, "denied"]);
  });

  it("a cluster being stopped is not a problem to fix", async () => {
    const t = plan({ observePools: async () => seen({ stopping: true }) });
    expect(await t.plan.refresh(new AbortController().signal)).toMatchObject({ ready: false, code: "stopping" });
  });
});
