import { describe, expect, it } from "vitest";
import { replacementClientToken } from "../../../src/failover/index.js";
import { FailoverRunner } from "../../../src/failover/runner.js";
import { silentLogger } from "../../../src/core/log.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeWorld, iso, key, MemoryStore, rebalance, settings, spot, startRunner, T0 } from "./fake-ports.js";

const T = T0 + 120_000;
const C = "g5.xlarge/us-east-1c"; // the first pool chosen (see story.test.ts)
const B = "g5.xlarge/us-east-1b"; // the second

describe("failover faults", () => {
  it("no capacity in the chosen pool: launches in the next pool, with its own ClientToken", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.script.set(C, ["capacity"]);
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(0);
    expect(world.launches.map((l) => key(l.request.candidate.instanceType, l.request.candidate.zone))).toEqual([C, B]);
    expect(world.launches[0]!.request.clientToken).not.toBe(world.launches[1]!.request.clientToken);
    expect(world.instances).toHaveLength(1);
    expect(runner.timeline().phases.spawn).toMatchObject({ state: "done", detail: "launched i-r1 in g5.xlarge/us-east-1b" });
    expect(runner.current.failures).toEqual([{ candidate: { instanceType: "g5.xlarge", zone: "us-east-1c", market: "spot" }, at: T0, reason: "capacity" }]);
    runner.close();
  });

  it("no capacity anywhere: SPAWN fails saying which pools were tried, the worker still drains and retires", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.observation = { ...world.observation, lbZones: ["us-east-1a", "us-east-1b"] };
    world.script.set(B, ["capacity"]);
    world.script.set("g6.xlarge/us-east-1a", ["capacity"]);
    world.script.set("g6.xlarge/us-east-1b", ["capacity"]);
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(115_000);
    const { spawn, health } = runner.timeline().phases;
    expect(spawn.state).toBe("failed");
    expect(spawn.detail).toBe("every pool failed (g5.xlarge/us-east-1b: capacity; g6.xlarge/us-east-1a: capacity; g6.xlarge/us-east-1b: capacity)");
    expect(health.state).toBe("skipped");
    expect(world.stops).toEqual([T - 10_000]);
    runner.close();
  });

  it("on-demand only as the last resort, when allowed", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.observation = { ...world.observation, lbZones: ["us-east-1a", "us-east-1c"] };
    world.script.set(C, ["capacity"]);
    world.script.set("g6.xlarge/us-east-1a", ["capacity"]);
    world.script.set("g6.xlarge/us-east-1c", ["capacity"]);
    const { runner } = await startRunner(clock, world, undefined, { onDemandFallback: true });
    await runner.notice(spot("n1", T));
    await clock.advance(0);
    expect(world.launches.map((l) => l.request.candidate.market)).toEqual(["spot", "spot", "spot", "on-demand"]);
    // Its spot capacity is what ran out: the interrupted pool is fine for on-demand.
    expect(world.launches[3]!.request.candidate).toEqual({ instanceType: "g5.xlarge", zone: "us-east-1a", market: "on-demand" });
    runner.close();
  });

  it("a replacement that never serves is terminated and another pool tried while time remains", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.serveAfterMs.set(C, Infinity);
    world.idleAt = T0 + 5_000;
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(59_000);
    expect(world.terminated).toEqual([]);
    await clock.advance(1_000);
    expect(world.terminated).toEqual([{ at: T0 + 60_000, instanceId: "i-r1" }]);
    expect(world.launches.map((l) => [l.at, key(l.request.candidate.instanceType, l.request.candidate.zone)])).toEqual([[T0, C], [T0 + 60_000, B]]);
    await clock.advance(30_000);
    const timeline = runner.timeline();
    expect(timeline.replacement).toBe("i-r2");
    expect(timeline.phases.health).toMatchObject({ state: "done", startedAt: iso(T0), endedAt: iso(T0 + 90_000) });
    runner.close();
  });

  it("the next replacement still loading at the notice time is handed over, not terminated", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.defaultServeAfterMs = Infinity;
    const { runner } = await startRunner(clock, world, undefined, { healthBudgetMs: 70_000 });
    await runner.notice(spot("n1", T));
    await clock.advance(120_000);
    expect(world.terminated.map((t) => t.instanceId)).toEqual(["i-r1"]);
    expect(world.launches.map((l) => l.at)).toEqual([T0, T0 + 70_000]); // the second's budget outlives the watch
    expect(runner.timeline().phases.health).toMatchObject({ state: "handed-over", endedAt: iso(T) });
    runner.close();
  });

  it("a replacement that never serves with no time left for another: HEALTH fails, nothing more is launched", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.defaultServeAfterMs = Infinity;
    const { runner } = await startRunner(clock, world, undefined, { healthBudgetMs: 116_000 });
    await runner.notice(spot("n1", T));
    await clock.advance(200_000);
    expect(world.terminated).toEqual([{ at: T0 + 116_000, instanceId: "i-r1" }]);
    expect(world.launches).toHaveLength(1);
    const { spawn, health } = runner.timeline().phases;
    expect(spawn.state).toBe("failed");
    expect(health).toMatchObject({ state: "failed", endedAt: iso(T0 + 116_000) });
    expect(health.detail).toMatch(/^no replacement launched by the spawn deadline .* \(g5.xlarge\/us-east-1c: unhealthy\)$/);
    runner.close();
  });

  it("an instance already carrying SynktiReplaces=<doomed id> is adopted: no launch", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.instances.push({ instanceId: "i-earlier", pool: { instanceType: "g5.xlarge", zone: "us-east-1b" }, tags: { SynktiReplaces: "i-doomed" }, state: "running", launchedAt: T0 - 20_000 });
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(0);
    expect(world.launches).toEqual([]);
    const timeline = runner.timeline();
    expect(timeline.replacement).toBe("i-earlier");
    expect(timeline.phases.spawn).toMatchObject({ state: "done", detail: "found i-earlier, already launched for i-doomed: no second launch" });
    await clock.advance(10_000);
    expect(runner.timeline().phases.health.state).toBe("done");
    runner.close();
  });

  it("a throttled spawn is retried in the same pool, with the same ClientToken, within the deadline", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.script.set(C, ["throttled", "throttled", "ok"]);
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(5_000);
    expect(world.launches.map((l) => l.at)).toEqual([T0, T0 + 1_000, T0 + 3_000]);
    expect(new Set(world.launches.map((l) => l.request.clientToken))).toEqual(new Set([replacementClientToken("demo", "i-doomed", { instanceType: "g5.xlarge", zone: "us-east-1c", market: "spot" })]));
    expect(world.instances).toHaveLength(1);
    expect(runner.timeline().phases.spawn.state).toBe("done");
    runner.close();
  });

  it("throttled until the spawn deadline: SPAWN fails with the reason instead of launching late", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.script.set(C, Array(50).fill("throttled"));
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T0 + 30_000)); // a notice read late: 30 s left
    await clock.advance(30_000);
    expect(world.launches.every((l) => l.at < T0 + 25_000)).toBe(true);
    expect(runner.timeline().phases.spawn).toMatchObject({ state: "failed" });
    expect(runner.timeline().phases.spawn.detail).toMatch(/^RunInstances throttled until the spawn deadline 2026-01-01T00:00:25.000Z/);
    runner.close();
  });
});

describe("failover: the agent restarted mid-failover", () => {
  it("resumes from the state file and finds the replacement it launched: no second launch", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.script.set(C, ["lost"]); // the instance is created, the agent dies before the answer
    const store = new MemoryStore();
    const first = await startRunner(clock, world, store);
    await first.runner.notice(spot("n1", T));
    await clock.advance(2_000);
    first.runner.close();
    expect(world.launches).toHaveLength(1);

    const second = await startRunner(clock, world, store);
    await second.runner.notice(spot("n1", T)); // the new watcher reads the same notice again
    await clock.advance(30_000);
    expect(world.launches).toHaveLength(1);
    expect(world.drains).toHaveLength(2); // the drain is asked again (it is idempotent)
    const timeline = second.runner.timeline();
    expect(timeline.replacement).toBe("i-r1");
    expect(timeline.phases.spawn.detail).toBe("found i-r1, already launched for i-doomed: no second launch");
    expect(timeline.phases.health.state).toBe("done");
    expect(second.runner.current.history.filter((e) => e.type === "started")).toHaveLength(1);
    second.runner.close();
  });

  it("a launch that never reached AWS is made again after the search, in the same pool with the same ClientToken", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    const store = new MemoryStore();
    const first = await startRunner(clock, world, store);
    // The agent dies between saving the state (attempt in flight) and its RunInstances.
    world.launch = async () => new Promise(() => {});
    await first.runner.notice(spot("n1", T));
    await clock.advance(0);
    first.runner.close();
    const saved = JSON.parse(store.text!).state.attempt;
    expect(saved).toMatchObject({ inFlight: true });

    const world2 = new FakeWorld(clock);
    const second = await startRunner(clock, world2, store);
    await clock.advance(0);
    expect(world2.launches).toHaveLength(1);
    expect(world2.launches[0]!.request.clientToken).toBe(saved.request.clientToken);
    expect(world2.launches[0]!.request.candidate).toEqual({ instanceType: "g5.xlarge", zone: "us-east-1c", market: "spot" });
    second.runner.close();
  });

  it("a drain that ended before the restart is asked again, so the restarted agent stays out of the target group", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.idleAt = T0 + 1_000;
    world.defaultServeAfterMs = 90_000; // HEALTH still running at the restart
    const store = new MemoryStore();
    const first = await startRunner(clock, world, store);
    await first.runner.notice(spot("n1", T));
    await clock.advance(5_000);
    expect(first.runner.timeline().phases.drain.state).toBe("done");
    first.runner.close();

    const second = await startRunner(clock, world, store);
    await clock.advance(0);
    expect(world.drains).toHaveLength(2);
    expect(second.runner.timeline().phases.drain.state).toBe("done"); // the phase itself is unchanged
    expect(world.launches).toHaveLength(1);
    second.runner.close();
  });

  it("ignores a state file left by another instance", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    const store = new MemoryStore();
    const other = await startRunner(clock, world, store, { doomed: { ...settings().doomed, instanceId: "i-other" } });
    await other.runner.notice(spot("n1", T));
    await clock.advance(0);
    other.runner.close();
    const mine = await startRunner(clock, world, store);
    expect(mine.runner.current.status).toBe("idle");
    mine.runner.close();
  });
});

describe("failover runner robustness", () => {
  it("a timeline publisher that throws neither loses the launch nor stalls later steps", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    let calls = 0;
    const runner = new FailoverRunner(
      {
        clock,
        log: silentLogger,
        ports: world,
        store: new MemoryStore(),
        onTimeline: () => {
          calls += 1;
          if (calls === 1) throw new Error("S3 record broken");
        },
      },
      settings(),
    );
    await runner.start();
    await runner.notice(spot("n1", T)); // resolves: the throw is logged, not propagated
    await clock.advance(0);
    expect(world.launches).toHaveLength(1);
    expect(runner.timeline().phases.spawn.state).toBe("done");
    runner.close();
  });

  it("a drain whose in-flight count is unknown is not reported as having none in flight", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.drain = async (until: number) => {
      await clock.sleep(until - clock.now());
      return { inFlight: undefined }; // /metrics never answered
    };
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(110_000);
    expect(runner.timeline().phases.drain).toMatchObject({ state: "done", detail: expect.stringContaining("requests in flight unknown") });
    runner.close();
  });

  it("a retired worker whose self-termination AWS refused asks again every minute until it is taken", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.idleAt = T0 + 35_000;
    let refusals = 2;
    world.terminateSelf = async () => {
      world.selfTerminations.push(clock.now());
      if (refusals-- > 0) throw new Error("RequestLimitExceeded: Request limit exceeded.");
    };
    const { runner } = await startRunner(clock, world);
    await runner.notice(rebalance("r1")); // no notice time: nothing else would ever end this instance
    await clock.advance(50_000);
    expect(runner.current.status).toBe("retired");
    const first = world.selfTerminations[0]!;
    await clock.advance(200_000);
    expect(world.selfTerminations).toEqual([first, first + 60_000, first + 120_000]);
    runner.close();
  });

  it("a kilobytes-long AWS refusal is cut in the timeline, so synkti status can still read the record", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    const launch = world.launch.bind(world);
    world.launch = async (request, signal) =>
      world.launches.length === 0 ? (world.launches.push({ at: clock.now(), request }), { failure: "refused" as const, message: `UnauthorizedOperation: Encoded authorization failure message: ${"x".repeat(5000)}` }) : launch(request, signal);
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(0);
    const refused = runner.current.history.find((e) => e.type === "phase" && e.detail?.includes("UnauthorizedOperation"));
    expect(refused?.type === "phase" && refused.detail!.length).toBeLessThanOrEqual(1000);
    runner.close();
  });
});
