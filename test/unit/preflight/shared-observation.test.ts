import { describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { deployerContext } from "../../../src/preflight/deployer/index.js";
import type { DeployerContext } from "../../../src/preflight/deployer/context.js";
import { runPreflight } from "../../../src/preflight/engine.js";
import type { Finding, Requirement } from "../../../src/preflight/types.js";
import { FakeClock } from "../../support/fake-clock.js";

/**
 * Two requirements share one observation (as the bucket's existence and its hardening do). The one
 * with the shorter deadline gives up on it; the other must still get the answer in its own time.
 */
describe("a shared observation (DeployerContext.once)", () => {
  it("outlives the deadline of the requirement that started it", async () => {
    const clock = new FakeClock();
    const preflight = new AbortController();
    const ctx = deployerContext({ clients: createAwsClients({ region: "us-east-1", role: "deployer" }), clock, signal: preflight.signal }, { project: "shared-obs", region: "us-east-1" });
    const received: Array<AbortSignal | undefined> = [];
    const slowLookup = (signal: AbortSignal | undefined) => {
      received.push(signal);
      return clock.sleep(3_000, signal).then(() => "the answer");
    };
    const needing = (id: string, timeoutMs: number): Requirement<DeployerContext, string> => ({
      id,
      title: id,
      timeoutMs,
      observe: (c) => c.once("lookup", slowLookup),
      verdict: (answer): Finding => ({ status: "pass", observed: answer }),
    });
    const done = runPreflight([needing("impatient", 1_000), needing("patient", 10_000)], ctx, { clock, defaultTimeoutMs: 10_000 });
    await clock.advance(5_000);
    const report = await done;
    const byId = Object.fromEntries(report.requirements.map((r) => [r.id, r]));
    expect(byId.impatient).toMatchObject({ status: "unknown", observed: expect.stringMatching(/could not observe/) });
    expect(byId.patient).toMatchObject({ status: "pass", observed: "the answer" });
    // Asked once, under the preflight's own signal (Ctrl-C still stops it), not the impatient one's.
    expect(received).toEqual([preflight.signal]);
  });
});
