import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { EventStore } from "../../../src/worker/interruption/event-store.js";
import { contentId, type InterruptionEvent, type Monitor } from "../../../src/worker/interruption/monitors.js";
import { InterruptionWatcher } from "../../../src/worker/interruption/watcher.js";
import { FakeClock } from "../../support/fake-clock.js";

const spot = (time: string, observedAt = 0): InterruptionEvent => ({
  kind: "spot-interruption",
  id: contentId("spot-interruption", { action: "terminate", time }),
  observedAt,
  action: "terminate",
  time,
});

/** A monitor whose answer a test sets; `hang` plays a check that never returns. */
function scripted(kind: Monitor["kind"]) {
  const m = {
    kind,
    answer: undefined as (() => InterruptionEvent | undefined) | undefined,
    error: undefined as Error | undefined,
    hang: false,
    checks: 0,
    async check(signal: AbortSignal) {
      m.checks += 1;
      if (m.hang) return new Promise<undefined>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      if (m.error) throw m.error;
      return m.answer?.();
    },
  };
  return m;
}

describe("interruption event store", () => {
  it("de-duplicates by content: the same notice is one event, a changed one is new", () => {
    const store = new EventStore();
    expect(store.add(spot("2026-01-01T00:02:00Z", 0))).toBe(true);
    expect(store.add(spot("2026-01-01T00:02:00Z", 1000))).toBe(false);
    expect(store.add(spot("2026-01-01T00:03:00Z", 2000))).toBe(true);
    expect(store.all()).toHaveLength(2);
    expect(store.latest("spot-interruption")?.time).toBe("2026-01-01T00:03:00Z");
    expect(store.latest("rebalance-recommendation")).toBeUndefined();
  });

  it("content ids ignore key order and differ by kind", () => {
    expect(contentId("spot-interruption", { action: "terminate", time: "t" })).toBe(contentId("spot-interruption", { time: "t", action: "terminate" }));
    expect(contentId("spot-interruption", { noticeTime: "t" })).not.toBe(contentId("rebalance-recommendation", { noticeTime: "t" }));
  });

  it("is bounded", () => {
    const store = new EventStore(3);
    for (let i = 0; i < 5; i++) store.add(spot(`t${i}`));
    expect(store.all().map((e) => e.time)).toEqual(["t2", "t3", "t4"]);
  });
});

describe("interruption watcher", () => {
  function setup() {
    const clock = new FakeClock();
    const spotMonitor = scripted("spot-interruption");
    const rebalance = scripted("rebalance-recommendation");
    const notices: InterruptionEvent[] = [];
    const watcher = new InterruptionWatcher({ clock, log: silentLogger }, [spotMonitor, rebalance], { intervalMs: 1000, timeoutMs: 500, onNotice: (e) => void notices.push(e) });
    const controller = new AbortController();
    const loop = watcher.run(controller.signal);
    return { clock, spotMonitor, rebalance, notices, watcher, stop: async () => (controller.abort(), await loop) };
  }

  it("checks every monitor every second and reacts once per notice, within a second of it", async () => {
    const t = setup();
    await t.clock.advance(3000);
    expect(t.spotMonitor.checks).toBe(4);
    expect(t.watcher.snapshot()).toEqual({});
    t.spotMonitor.answer = () => spot("2026-01-01T00:05:03Z", t.clock.now());
    await t.clock.advance(1000);
    expect(t.notices).toHaveLength(1);
    expect(t.watcher.snapshot().notice).toEqual({ action: "terminate", time: "2026-01-01T00:05:03Z", observedAt: "2026-01-01T00:00:04.000Z" });
    await t.clock.advance(10_000); // the same notice every second: still one reaction
    expect(t.notices).toHaveLength(1);
    await t.stop();
  });

  it("records a rebalance recommendation separately", async () => {
    const t = setup();
    t.rebalance.answer = () => ({ kind: "rebalance-recommendation", id: contentId("rebalance-recommendation", { noticeTime: "n" }), observedAt: t.clock.now(), noticeTime: "n" });
    await t.clock.advance(1000);
    expect(t.watcher.snapshot()).toEqual({ rebalance: { noticeTime: "n", observedAt: "2026-01-01T00:00:01.000Z" } });
    expect(t.notices.map((n) => n.kind)).toEqual(["rebalance-recommendation"]);
    await t.stop();
  });

  it("survives errors and a hung check: the other monitor still reports on time", async () => {
    const t = setup();
    t.rebalance.hang = true;
    t.spotMonitor.error = new Error("IMDS at http://127.0.0.1:1 is unreachable");
    await t.clock.advance(5000);
    expect(t.spotMonitor.checks).toBeGreaterThanOrEqual(5);
    t.spotMonitor.error = undefined;
    t.spotMonitor.answer = () => spot("t", t.clock.now());
    await t.clock.advance(1000);
    expect(t.notices).toHaveLength(1);
    // seen at the round's start, not after the hung check's 500 ms deadline
    expect(t.notices[0]!.observedAt % 1000).toBe(0);
    await t.stop();
  });

  it("a failing reaction is logged, never stops the watcher", async () => {
    const clock = new FakeClock();
    const monitor = scripted("spot-interruption");
    let n = 0;
    monitor.answer = () => spot(`t${n++}`, clock.now()); // a new notice every check
    const watcher = new InterruptionWatcher({ clock, log: silentLogger }, [monitor], {
      intervalMs: 1000,
      timeoutMs: 500,
      onNotice: () => {
        throw new Error("failover broke");
      },
    });
    const controller = new AbortController();
    const loop = watcher.run(controller.signal);
    await clock.advance(3000);
    expect(watcher.store.all()).toHaveLength(4);
    controller.abort();
    await loop;
  });
});
