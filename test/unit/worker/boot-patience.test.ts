import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import type { PreflightReport, Verdict } from "../../../src/preflight/types.js";
import { retryWhileUnknown } from "../../../src/worker/boot/patient-preflight.js";
import { FakeClock } from "../../support/fake-clock.js";

const report = (verdict: Verdict): { report: PreflightReport } => ({
  report: { verdict, requirements: [{ id: "role", title: "role", status: verdict === "UNKNOWN" ? "unknown" : "pass", observed: "", fix: null, blockedBy: null, durationMs: 0 }] },
});

/** Answers the given verdicts in order, recording the fake time of each attempt. */
function script(clock: FakeClock, verdicts: Verdict[]) {
  const at: number[] = [];
  const attempt = async () => {
    at.push(clock.now() - start);
    return report(verdicts[Math.min(at.length - 1, verdicts.length - 1)]!);
  };
  const start = clock.now();
  return { attempt, at };
}

describe("a booting worker's patience with an UNKNOWN preflight", () => {
  it("asks again with backoff until the verdict is known", async () => {
    const clock = new FakeClock();
    const { attempt, at } = script(clock, ["UNKNOWN", "UNKNOWN", "SAFE"]);
    const done = retryWhileUnknown(attempt, { clock, log: silentLogger });
    await clock.advance(10_000);
    expect((await done).report.verdict).toBe("SAFE");
    expect(at).toEqual([0, 2_000, 6_000]);
  });

  it("takes UNSAFE as final at once", async () => {
    const clock = new FakeClock();
    const { attempt, at } = script(clock, ["UNSAFE", "SAFE"]);
    expect((await retryWhileUnknown(attempt, { clock, log: silentLogger })).report.verdict).toBe("UNSAFE");
    expect(at).toEqual([0]);
  });

  it("gives up after its patience, with the last UNKNOWN report", async () => {
    const clock = new FakeClock();
    const { attempt, at } = script(clock, ["UNKNOWN"]);
    const done = retryWhileUnknown(attempt, { clock, log: silentLogger, patienceMs: 60_000 });
    await clock.advance(120_000);
    expect((await done).report.verdict).toBe("UNKNOWN");
    expect(at).toEqual([0, 2_000, 6_000, 14_000, 29_000, 44_000, 59_000]); // never past 60 s
    expect(clock.pending()).toBe(0);
  });

  it("stops waiting when the agent is stopped", async () => {
    const clock = new FakeClock();
    const stop = new AbortController();
    const { attempt, at } = script(clock, ["UNKNOWN"]);
    const done = retryWhileUnknown(attempt, { clock, log: silentLogger, signal: stop.signal });
    await clock.advance(1_000);
    stop.abort();
    expect((await done).report.verdict).toBe("UNKNOWN");
    expect(at).toEqual([0]);
  });
});
