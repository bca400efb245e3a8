/**
 * The stand-ins' poll loop on a fake clock: at once, then every interval, never two polls at once,
 * a throwing poll reported and the loop kept, stop() waiting for the poll in progress.
 */
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../support/fake-clock.js";
import { booterResolver } from "../../support/load-balancer/fleet.js";
import { startPollLoop } from "../../support/load-balancer/poll-loop.js";

describe("load balancer poll loop", () => {
  it("polls every interval, one at a time, and survives a failing poll", async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const errors: unknown[] = [];
    let running = 0;
    let most = 0;
    const loop = startPollLoop(
      clock,
      1000,
      async () => {
        starts.push(clock.now() - new FakeClock().now());
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        if (starts.length === 2) throw new Error("moto is down");
      },
      (error) => errors.push(error),
    );
    await Promise.all([loop.sync(), loop.sync()]);
    expect(starts).toEqual([0, 0]);
    for (let i = 0; i < 3; i++) {
      await clock.untilPending();
      await clock.advance(1000);
      await loop.sync();
    }
    expect(starts).toEqual([0, 0, 1000, 1000, 2000, 2000, 3000, 3000]);
    expect(most).toBe(1);
    expect(errors).toEqual([new Error("moto is down")]);
    await loop.stop();
    await clock.advance(5000);
    expect(starts).toHaveLength(8);
  });

  it("the booter resolver knows only booted instances that still run", () => {
    const resolve = booterResolver({ instances: () => [{ instanceId: "i-live", address: "127.9.9.2", ended: false }, { instanceId: "i-dead", address: "127.9.9.3", ended: true }] });
    expect(resolve("i-live", 8000, "traffic")).toBe("127.9.9.2");
    expect(resolve("i-dead", 8080, "health-check")).toBeUndefined();
    expect(resolve("i-unknown", 8000, "traffic")).toBeUndefined();
  });
});
