import { describe, expect, it } from "vitest";
import { recentReading } from "../../../src/worker/model-server/probes.js";
import { FakeClock } from "../../support/fake-clock.js";

describe("recentReading (/status's in-flight count)", () => {
  it("scrapes the model server at most once a second, whatever the request rate; concurrent asks share one reading", async () => {
    const clock = new FakeClock();
    let scrapes = 0;
    const read = recentReading(async () => ++scrapes, clock, 1000);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    await clock.advance(999);
    expect(await read()).toBe(1);
    await clock.advance(1);
    expect(await read()).toBe(2);
    expect(scrapes).toBe(2);
  });
});
