import { describe, expect, it } from "vitest";
import { initialState, step } from "../../../src/failover/index.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeWorld, rebalance, settings, spot, startRunner, T0 } from "./fake-ports.js";

const held = "spot quota unreadable: at most 1 early replacements in flight (1 per 3 of 3 live workers); 1 in flight";

describe("failover: an early replacement held back by the spot quota's headroom (issue 11 item 4)", () => {
  it("a rebalance with no room launches nothing and keeps serving; a later spot notice is still replaced", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.observation = { ...world.observation, earlyHold: held };
    const { runner } = await startRunner(clock, world);
    await runner.notice(rebalance("r1"));
    await clock.advance(60_000);
    expect(world.launches).toEqual([]);
    expect(world.drains).toEqual([]); // still serving
    expect(world.stops).toEqual([]);
    expect(runner.current.status).toBe("abandoned");
    expect(runner.timeline().phases.spawn).toMatchObject({ state: "skipped", detail: `no early replacement now: ${held}` });

    // The same (unchanged) observation does not hold back a notice's replacement.
    await runner.notice(spot("n1", T0 + 180_000));
    await clock.advance(0);
    expect(world.launches).toHaveLength(1);
    expect(world.drains).toHaveLength(1);
    expect(runner.timeline().trigger).toBe("rebalance-then-notice");
    runner.close();
  });

  it("a spot notice alone is never held back, whatever the observation says", async () => {
    const clock = new FakeClock(T0);
    const world = new FakeWorld(clock);
    world.observation = { ...world.observation, earlyHold: held };
    const { runner } = await startRunner(clock, world);
    await runner.notice(spot("n1", T0 + 120_000));
    await clock.advance(0);
    expect(world.launches).toHaveLength(1);
    runner.close();
  });

  it("only a rebalance's SELECT asks whether an early replacement fits: a notice's never waits on the quota", () => {
    const early = step(initialState(settings()), { at: T0, type: "notice", kind: "rebalance-recommendation", id: "r1" }).effects;
    expect(early).toContainEqual({ type: "observe-pools", early: true });
    const notice = step(initialState(settings()), { at: T0, type: "notice", kind: "spot-interruption", id: "n1", time: T0 + 120_000 }).effects;
    expect(notice).toContainEqual({ type: "observe-pools" });
  });
});
