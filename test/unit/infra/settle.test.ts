import { describe, expect, it } from "vitest";
import { settle } from "../../../src/infra/settle.js";
import { FakeClock } from "../../support/fake-clock.js";

const awsError = (name: string, status = 400) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/** Fails with the given errors in turn, then answers "ok". */
function flaky(...errors: Error[]) {
  let calls = 0;
  return {
    calls: () => calls,
    work: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return "ok";
    },
  };
}

describe("settle (eventual consistency)", () => {
  it("retries not-found and DependencyViolation answers on the clock, backing off", async () => {
    const clock = new FakeClock();
    const w = flaky(awsError("NoSuchBucket", 404), awsError("NoSuchEntity", 404), awsError("DependencyViolation"));
    const result = settle(clock, w.work, { firstDelayMs: 500 });
    await clock.untilPending();
    await clock.advance(500);
    await clock.untilPending();
    await clock.advance(1000);
    await clock.untilPending();
    await clock.advance(2000);
    await expect(result).resolves.toBe("ok");
    expect(w.calls()).toBe(4);
    expect(clock.now() - new FakeClock().now()).toBe(3500);
  });

  it("fails at once on anything else", async () => {
    const w = flaky(awsError("AccessDenied", 403));
    await expect(settle(new FakeClock(), w.work)).rejects.toThrow("AccessDenied");
    expect(w.calls()).toBe(1);
  });

  it("gives up after the last attempt with the last error", async () => {
    const clock = new FakeClock();
    const w = flaky(awsError("NoSuchEntity", 404), awsError("NoSuchEntity", 404), awsError("NoSuchEntity", 404));
    const result = settle(clock, w.work, { attempts: 2, firstDelayMs: 100 });
    const outcome = expect(result).rejects.toThrow("NoSuchEntity");
    await clock.untilPending();
    await clock.advance(100);
    await outcome;
    expect(w.calls()).toBe(2);
  });
});
