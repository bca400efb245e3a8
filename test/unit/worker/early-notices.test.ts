import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import type { Notice } from "../../../src/failover/runner.js";
import { EarlyNotices } from "../../../src/worker/interruption/early-notices.js";
import type { InterruptionEvent } from "../../../src/worker/interruption/monitors.js";

const spot: InterruptionEvent = { kind: "spot-interruption", id: "s1", observedAt: 1_000, action: "terminate", time: "2026-01-01T00:02:00Z" };
const rebalance: InterruptionEvent = { kind: "rebalance-recommendation", id: "r1", observedAt: 500, noticeTime: "2026-01-01T00:00:00Z" };

function taker() {
  const taken: Notice[] = [];
  return { taken, notice: async (n: Notice) => void taken.push(n) };
}

describe("notices that come while the worker boots", () => {
  it("wait for the failover and are handed over once, in order, when it is ready", () => {
    const notices = new EarlyNotices(silentLogger);
    notices.deliver(rebalance);
    notices.deliver(spot);
    const failover = taker();
    expect(failover.taken).toEqual([]);
    notices.ready(failover);
    expect(failover.taken).toEqual([
      { kind: "rebalance-recommendation", id: "r1" },
      { kind: "spot-interruption", id: "s1", time: "2026-01-01T00:02:00Z" },
    ]);
    // Ready again (or later notices): the early ones are not handed over a second time.
    notices.ready(failover);
    expect(failover.taken).toHaveLength(2);
  });

  it("go straight to the failover once it is ready", async () => {
    const notices = new EarlyNotices(silentLogger);
    const failover = taker();
    notices.ready(failover);
    await notices.deliver(spot);
    expect(failover.taken).toEqual([{ kind: "spot-interruption", id: "s1", time: "2026-01-01T00:02:00Z" }]);
  });

  it("go to the override (tests) at once, booting or not", () => {
    const seen: InterruptionEvent[] = [];
    const notices = new EarlyNotices(silentLogger, (e) => void seen.push(e));
    notices.deliver(spot);
    expect(seen).toEqual([spot]);
  });
});
