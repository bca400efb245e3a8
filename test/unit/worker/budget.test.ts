import { describe, expect, it } from "vitest";
import { clusterCallRate, DEFAULT_DISCOVERY_BUDGET, firstPhaseMs, jittered, listingIntervalMs, throttledIntervalMs } from "../../../src/worker/discovery/budget.js";

describe("discovery budget", () => {
  it.each([
    [1, 1, 10_000],
    [3, 1, 10_000],
    [5, 1, 10_000],
    [10, 1, 20_000],
    [100, 1, 200_000],
    [1000, 1, 2_000_000],
    [2000, 2, 8_000_000],
  ])("a member of a %d-member cluster whose listing takes %d call(s) lists every %d ms", (n, calls, ms) => {
    expect(listingIntervalMs(n, calls)).toBe(ms);
  });

  it("the whole cluster stays within the budget whatever its size", () => {
    for (const n of [1, 2, 5, 10, 20, 50, 100, 500, 1000, 5000, 10_000]) {
      const calls = Math.ceil(n / 1000);
      expect(clusterCallRate(n, calls)).toBeLessThanOrEqual(DEFAULT_DISCOVERY_BUDGET.clusterCallsPerSecond + 1e-9);
    }
    expect(clusterCallRate(1000, 1)).toBeCloseTo(0.5, 9);
    expect(clusterCallRate(3, 1)).toBeCloseTo(0.3, 9); // small clusters sit on the floor, below the budget
  });

  it("jitter keeps the mean and stays within its band", () => {
    expect(jittered(10_000, () => 0)).toBe(8000);
    expect(jittered(10_000, () => 0.5)).toBe(10_000);
    expect(jittered(10_000, () => 0.999999)).toBe(12_000);
    expect(firstPhaseMs(10_000, () => 0.25)).toBe(2500);
  });

  it("throttling doubles the interval, capped", () => {
    expect(throttledIntervalMs(20_000, 0)).toBe(20_000);
    expect(throttledIntervalMs(20_000, 3)).toBe(160_000);
    expect(throttledIntervalMs(2_000_000, 10)).toBe(DEFAULT_DISCOVERY_BUDGET.maxIntervalMs);
  });
});
