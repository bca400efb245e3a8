import { describe, expect, it } from "vitest";
import { lateDrainDeadline, rebalanceDeadlines, spotDeadlines, tightened } from "../../../src/failover/deadlines.js";
import { FakeClock } from "../../support/fake-clock.js";
import { seededRandom } from "../../support/seeded-random.js";
import { FakeWorld, key, rebalance, spot, startRunner, T0 } from "./fake-ports.js";

describe("deadlines derived from the notice time", () => {
  it("for a two-minute notice read at once: drain until T-10 s, select 5 s, launches until T-5 s, watch until T", () => {
    const T = T0 + 120_000;
    expect(spotDeadlines(T0, T)).toEqual({ drain: T - 10_000, select: T0 + 5_000, spawn: T - 5_000, watch: T });
  });

  it("for a notice read late, less time, never past T; read after T, everything is due at T", () => {
    const T = T0 + 3_000;
    expect(spotDeadlines(T0, T)).toEqual({ drain: T0, select: T, spawn: T0, watch: T });
    expect(spotDeadlines(T + 5_000, T)).toEqual({ drain: T, select: T, spawn: T, watch: T });
  });

  it("a notice after a rebalance only moves deadlines earlier", () => {
    const start = rebalanceDeadlines(T0);
    const T = T0 + 200_000;
    expect(tightened(start, T0 + 60_000, T)).toEqual({ drain: T - 10_000, select: T0 + 5_000, spawn: T - 5_000, watch: T });
    expect(lateDrainDeadline(T0, T0 + 50_000)).toBe(T0 + 40_000);
    expect(lateDrainDeadline(T0)).toBe(T0 + 90_000);
  });

  it("never past the notice time, for any start and notice time (pure)", () => {
    const random = seededRandom(11);
    for (let i = 0; i < 500; i++) {
      const start = T0 + Math.floor(random() * 300_000);
      const T = T0 + Math.floor(random() * 300_000);
      const d = spotDeadlines(start, T);
      for (const at of [d.drain!, d.select, d.spawn, d.watch!]) expect(at).toBeLessThanOrEqual(T);
      const earlier = rebalanceDeadlines(T0);
      const t = tightened(earlier, Math.max(start, T0), T);
      for (const at of [t.drain!, t.select, t.spawn, t.watch!]) expect(at).toBeLessThanOrEqual(T);
      expect(lateDrainDeadline(start, T)).toBeLessThanOrEqual(T);
    }
  });

  it("never past the notice time in a whole failover, whatever the pools answer (seeded runs)", async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = seededRandom(seed);
      const clock = new FakeClock(T0);
      const world = new FakeWorld(clock);
      const outcomes = ["capacity", "throttled", "refused", "ok"];
      for (const zone of ["us-east-1b", "us-east-1c"]) world.script.set(key("g5.xlarge", zone), Array.from({ length: 4 }, () => outcomes[Math.floor(random() * 4)]!));
      world.defaultServeAfterMs = 10_000 + Math.floor(random() * 200_000);
      const T = T0 + 20_000 + Math.floor(random() * 120_000);
      const { runner } = await startRunner(clock, world, undefined, { healthBudgetMs: 30_000 + Math.floor(random() * 60_000) });
      if (random() < 0.5) await runner.notice(rebalance("r"));
      await clock.advance(Math.floor(random() * 10_000));
      await runner.notice(spot("n", T));
      await clock.advance(200_000);
      const timeline = runner.timeline();
      const where = `seed ${seed}`;
      for (const drain of world.drains.filter((d) => d.at >= T0)) expect(drain.until, where).toBeLessThanOrEqual(T);
      for (const launch of world.launches) expect(launch.at, where).toBeLessThan(T);
      expect(Date.parse(timeline.phases.drain.endedAt!), where).toBeLessThanOrEqual(T);
      for (const phase of Object.values(timeline.phases)) expect(phase.state, where).not.toBe("running");
      expect(world.instances.filter((i) => i.state === "running").length, where).toBeLessThanOrEqual(1); // one live replacement at most
      runner.close();
    }
  });
});
