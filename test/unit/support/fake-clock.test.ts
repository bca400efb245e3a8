import { describe, expect, it } from "vitest";
import { DeadlineExceeded, withDeadline } from "../../../src/core/clock.js";
import { FakeClock } from "../../support/fake-clock.js";

describe("FakeClock", () => {
  it("starts at a fixed time and moves only on advance", async () => {
    const clock = new FakeClock(1_000);
    expect(clock.now()).toBe(1_000);
    await clock.advance(250);
    expect(clock.now()).toBe(1_250);
  });

  it("wakes sleepers in wake-time order, ties in sleep order, with now() at each wake time", async () => {
    const clock = new FakeClock(0);
    const woke: string[] = [];
    const sleep = (name: string, ms: number) => clock.sleep(ms).then(() => woke.push(`${name}@${clock.now()}`));
    void sleep("late", 300);
    void sleep("early", 100);
    void sleep("tie-a", 200);
    void sleep("tie-b", 200);
    await clock.advance(250);
    expect(woke).toEqual(["early@100", "tie-a@200", "tie-b@200"]);
    expect(clock.now()).toBe(250);
    expect(clock.pending()).toBe(1);
    await clock.advance(50);
    expect(woke.at(-1)).toBe("late@300");
  });

  it("fires sleepers registered by woken code within the same advance", async () => {
    const clock = new FakeClock(0);
    const ticks: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        ticks.push(clock.now());
      }
    })();
    await clock.advance(1_000);
    expect(ticks).toEqual([100, 200, 300]);
  });

  it("rejects an aborted sleep with the signal's reason and forgets it", async () => {
    const clock = new FakeClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(sleeping).rejects.toThrow("stop");
    expect(clock.pending()).toBe(0);
    await expect(clock.sleep(5, controller.signal)).rejects.toThrow("stop");
  });

  it("resolves a zero sleep at once and refuses to go back in time", async () => {
    const clock = new FakeClock(0);
    await clock.sleep(0);
    await expect(clock.advance(-1)).rejects.toThrow(/back in time/);
  });

  it("drives withDeadline without real waiting", async () => {
    const clock = new FakeClock(0);
    const never = withDeadline(clock, 1_000, "silent server", () => new Promise<never>(() => {}));
    const outcome = never.catch((error: unknown) => error);
    await clock.advance(999);
    expect(clock.pending()).toBe(1);
    await clock.advance(1);
    expect(await outcome).toBeInstanceOf(DeadlineExceeded);
  });

  it("leaves no sleeper behind when the work wins the race", async () => {
    const clock = new FakeClock(0);
    await expect(withDeadline(clock, 1_000, "fast", async () => "done")).resolves.toBe("done");
    await clock.settle();
    expect(clock.pending()).toBe(0);
  });

  it("waits for code that does real I/O before it sleeps", async () => {
    const clock = new FakeClock(0);
    const { readFile } = await import("node:fs/promises");
    const done = (async () => {
      await readFile(new URL(import.meta.url));
      await clock.sleep(500);
      return clock.now();
    })();
    await clock.untilPending(1);
    await clock.advance(500);
    expect(await done).toBe(500);
    await expect(clock.untilPending(1, 10)).rejects.toThrow(/0 sleepers after 10 turns/);
  });
});
