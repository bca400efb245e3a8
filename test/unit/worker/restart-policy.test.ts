import { describe, expect, it } from "vitest";
import { DEFAULT_RESTART_POLICY, pruneCrashes, restartDecision } from "../../../src/worker/model-server/restart-policy.js";

const MIN = 60_000;

describe("restart policy", () => {
  it.each([
    [[0], 0, { action: "restart", delayMs: 1000 }],
    [[0, 1000], 1000, { action: "restart", delayMs: 2000 }],
    [[0, 1000, 3000], 3000, { action: "restart", delayMs: 4000 }],
    [[0, 1000, 3000, 7000], 7000, { action: "restart", delayMs: 8000 }],
    [[0, 1000, 3000, 7000, 15_000], 15_000, { action: "give-up" }],
    // old crashes fall out of the 10-minute window: backoff shrinks again, no give-up
    [[0, 1000, 3000, 7000, 11 * MIN], 11 * MIN, { action: "restart", delayMs: 1000 }],
    [[0, 2 * MIN, 4 * MIN, 6 * MIN, 8 * MIN], 8 * MIN, { action: "give-up" }],
    [[0, 3 * MIN, 6 * MIN, 9 * MIN, 12 * MIN], 12 * MIN, { action: "restart", delayMs: 8000 }],
  ])("crashes at %j, now %d -> %j", (crashes, now, expected) => {
    expect(restartDecision(crashes, now)).toMatchObject(expected);
  });

  it("caps the backoff", () => {
    const policy = { ...DEFAULT_RESTART_POLICY, maxCrashes: 100 };
    const crashes = Array.from({ length: 20 }, (_, i) => i);
    expect(restartDecision(crashes, 20, policy)).toMatchObject({ action: "restart", delayMs: 60_000 });
  });

  it("says why it gives up", () => {
    const decision = restartDecision([0, 1, 2, 3, 4], 4);
    expect(decision).toEqual({ action: "give-up", recentCrashes: 5, reason: "5 crashes within 10 minutes" });
  });

  it("gives up on a server that hangs at every start: each failure comes after the 20-minute ready timeout, outside the window", () => {
    const hung = [0, 20 * MIN];
    // The window alone would restart for ever (1 recent crash each time)...
    expect(restartDecision(hung, 20 * MIN, DEFAULT_RESTART_POLICY, 1)).toMatchObject({ action: "restart", recentCrashes: 1 });
    // ...but the second start in a row that never became healthy ends it.
    expect(restartDecision(hung, 20 * MIN, DEFAULT_RESTART_POLICY, 2)).toEqual({ action: "give-up", recentCrashes: 1, reason: "2 starts in a row never became healthy" });
  });

  it("prunes crashes outside the window", () => {
    expect(pruneCrashes([0, 5 * MIN, 10 * MIN, 12 * MIN], 12 * MIN)).toEqual([5 * MIN, 10 * MIN, 12 * MIN]);
  });
});
