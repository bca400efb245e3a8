import { describe, expect, it } from "vitest";
import { TAG_LAUNCH, TAG_REPLACES, TAG_SLOT } from "../../../src/infra/names.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeWorld, iso, rebalance, spot, startRunner, T0 } from "./fake-ports.js";

const T = T0 + 120_000; // the notice time: AWS acts two minutes after the notice

describe("failover: a spot notice", () => {
  it("drains, selects and spawns at once, checks health, then retires and waits to be reclaimed", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.idleAt = T0 + 20_000;
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(0);

    // DRAIN, SELECT and SPAWN all started at the notice: the replacement is launched within seconds.
    expect(world.drains).toEqual([{ at: T0, until: T - 10_000 }]);
    expect(world.launches).toHaveLength(1);
    const [launch] = world.launches;
    expect(launch!.at).toBe(T0);
    // Same type, in the zone with the fewest peers (1b has one, 1c none), never the interrupted 1a.
    expect(launch!.request.candidate).toEqual({ instanceType: "g5.xlarge", zone: "us-east-1c", market: "spot" });
    expect(world.instances[0]!.tags).toMatchObject({ [TAG_REPLACES]: "i-doomed", [TAG_SLOT]: "1" });
    expect(launch!.request.launchId).toBe("r-i-doomed");

    await clock.advance(30_000);
    expect(runner.timeline().phases.health.state).toBe("done");
    expect(world.stops).toEqual([T0 + 30_000]); // model server stopped once both DRAIN and HEALTH ended
    expect(world.selfTerminations).toEqual([]);

    await clock.advance(150_000); // still alive 60 s after the notice time: ends itself
    expect(world.selfTerminations).toEqual([T + 60_000]);

    const timeline = runner.timeline();
    expect(timeline).toEqual({
      trigger: "spot-interruption",
      deadlineAt: iso(T),
      replacement: "i-r1",
      phases: {
        drain: { state: "done", startedAt: iso(T0), endedAt: iso(T0 + 20_000), detail: "no request in flight" },
        select: { state: "done", startedAt: iso(T0), endedAt: iso(T0), detail: "5 pools, first g5.xlarge/us-east-1c" },
        spawn: { state: "done", startedAt: iso(T0), endedAt: iso(T0), detail: "launched i-r1 in g5.xlarge/us-east-1c" },
        health: { state: "done", startedAt: iso(T0), endedAt: iso(T0 + 30_000), detail: "i-r1 serving and healthy in the target group 30 s after its launch" },
      },
    });
    runner.close();
  });

  it("ends a drain that does not empty at its deadline, before the notice time", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(115_000);
    const drain = runner.timeline().phases.drain;
    expect(drain).toMatchObject({ state: "done", endedAt: iso(T - 10_000), detail: "2 requests still in flight at the drain deadline" });
    runner.close();
  });

  it("handles the same notice twice as one failover", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(1_000);
    await runner.notice(spot("n1", T));
    await clock.advance(40_000);
    expect(world.launches).toHaveLength(1);
    expect(world.drains).toHaveLength(1);
    expect(runner.current.history.filter((e) => e.type === "started")).toHaveLength(1);
    runner.close();
  });

  it("launches no replacement while the cluster is being stopped (synkti down)", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.observation = { ...world.observation, stopping: true };
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T));
    await clock.advance(120_000);
    expect(world.launches).toEqual([]);
    expect(runner.timeline().phases.spawn).toMatchObject({ state: "skipped", detail: "the cluster is being stopped (synkti down): no replacement" });
    expect(world.stops).toEqual([T - 10_000]); // drained, then retired
    runner.close();
  });
});

describe("failover: a rebalance recommendation", () => {
  it("launches a replacement while still serving and drains only once it serves", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.idleAt = T0 + 45_000;
    const { runner } = await startRunner(clock, world);
    await runner.notice(rebalance("r1"));
    await clock.advance(0);
    expect(world.launches).toHaveLength(1);
    expect(world.drains).toEqual([]); // still serving: the cluster keeps its size

    await clock.advance(29_000);
    expect(world.drains).toEqual([]);
    await clock.advance(1_000);
    expect(world.drains).toEqual([{ at: world.servingSince("i-r1"), until: T0 + 30_000 + 90_000 }]);

    await clock.advance(20_000);
    const timeline = runner.timeline();
    expect(timeline.trigger).toBe("rebalance-recommendation");
    expect(timeline.deadlineAt).toBeNull();
    expect(timeline.phases.drain).toMatchObject({ state: "done", startedAt: iso(T0 + 30_000), endedAt: iso(T0 + 45_000) });
    // No notice will come to reclaim it: it ends itself once drained.
    expect(world.stops).toEqual([T0 + 45_000]);
    expect(world.selfTerminations).toEqual([T0 + 45_000]);
    runner.close();
  });

  it("upgrades to the notice that follows: drains at once, keeps its one replacement", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.defaultServeAfterMs = 300_000; // a GPU replacement takes minutes to load its model
    const { runner } = await startRunner(clock, world, undefined, { healthBudgetMs: 900_000 });
    await runner.notice(rebalance("r1"));
    await clock.advance(10_000);
    const noticeTime = T0 + 130_000;
    await runner.notice(spot("n1", noticeTime));
    await clock.advance(0);
    expect(world.drains).toEqual([{ at: T0 + 10_000, until: noticeTime - 10_000 }]);

    await clock.advance(125_000);
    expect(world.launches).toHaveLength(1);
    const timeline = runner.timeline();
    expect(timeline.trigger).toBe("rebalance-then-notice");
    expect(timeline.deadlineAt).toBe(iso(noticeTime));
    expect(timeline.phases.health).toMatchObject({ state: "handed-over", endedAt: iso(noticeTime) });
    expect(world.terminated).toEqual([]); // still loading is not a failure: it records HEALTH itself
    expect(world.stops).toEqual([noticeTime]);
    expect(runner.current.history.filter((e) => e.type === "started")).toHaveLength(1);
    runner.close();
  });

  it("keeps serving when no replacement could be launched, and starts over on the notice", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.observation = { ...world.observation, lbZones: ["us-east-1a", "us-east-1b"] };
    world.script.set("g5.xlarge/us-east-1b", ["capacity"]);
    const { runner } = await startRunner(clock, world, undefined, { instanceTypes: ["g5.xlarge"] });
    await runner.notice(rebalance("r1"));
    await clock.advance(60_000);
    expect(runner.current.status).toBe("abandoned");
    expect(world.drains).toEqual([]);
    expect(world.stops).toEqual([]);

    await runner.notice(spot("n1", T0 + 180_000));
    await clock.advance(0);
    expect(world.drains).toEqual([{ at: T0 + 60_000, until: T0 + 170_000 }]);
    expect(world.launches).toHaveLength(1); // the pool that just failed is not tried again
    const timeline = runner.timeline();
    expect(timeline.trigger).toBe("rebalance-then-notice");
    expect(timeline.phases.select).toMatchObject({ state: "failed", detail: expect.stringMatching(/^no pool to try/) });
    runner.close();
  });
});
