import { describe, expect, it } from "vitest";
import { dependencyOrder, overallVerdict, runPreflight } from "../../../src/preflight/engine.js";
import type { Finding, Requirement } from "../../../src/preflight/types.js";
import { FakeClock } from "../../support/fake-clock.js";
import { SynktiError } from "../../../src/core/errors.js";

type Ctx = { log: string[] };

/** A requirement whose observation takes `ms` of fake time and then yields `finding`. */
function req(id: string, ms: number, finding: Finding | Error, dependsOn?: string[], timeoutMs?: number): Requirement<Ctx, Finding> {
  return {
    id,
    title: `title of ${id}`,
    dependsOn,
    timeoutMs,
    async observe(ctx, signal) {
      ctx.log.push(`start ${id}`);
      await clock.sleep(ms, signal);
      if (finding instanceof Error) throw finding;
      return finding;
    },
    verdict: (observed) => observed,
  };
}

let clock: FakeClock;
const pass: Finding = { status: "pass", observed: "fine" };
const fail: Finding = { status: "fail", observed: "bucket missing", fix: { command: "synkti infra up --project-name p" } };

async function run(requirements: Requirement<Ctx, Finding>[], advanceMs: number) {
  clock = clock ?? new FakeClock();
  const ctx: Ctx = { log: [] };
  const done = runPreflight(requirements, ctx, { clock, defaultTimeoutMs: 5000 });
  await clock.advance(advanceMs);
  return { report: await done, ctx };
}

describe("preflight engine", () => {
  it("starts every observation at once: total time is the slowest, not the sum", async () => {
    clock = new FakeClock();
    const t0 = clock.now();
    const ctx: Ctx = { log: [] };
    const done = runPreflight([req("a", 1000, pass), req("b", 3000, pass), req("c", 2000, pass, ["a"])], ctx, { clock, defaultTimeoutMs: 5000 });
    await clock.advance(0);
    // All three started before any time passed: c does not wait for a, its dependency.
    expect(ctx.log).toEqual(["start a", "start b", "start c"]);
    await clock.advance(3000);
    const report = await done;
    expect(report.verdict).toBe("SAFE");
    expect(Math.max(...report.requirements.map((r) => r.durationMs))).toBe(3000);
    expect(clock.now() - t0).toBe(3000);
  });

  it("reports a dependent of a failed requirement as blocked, not as a second failure", async () => {
    clock = new FakeClock();
    const { report } = await run([req("bucket", 10, fail), req("binary", 10, fail, ["bucket"])], 10);
    expect(report.verdict).toBe("UNSAFE");
    const binary = report.requirements.find((r) => r.id === "binary")!;
    expect(binary).toMatchObject({ status: "blocked", blockedBy: ["bucket"], fix: null });
    expect(report.requirements.find((r) => r.id === "bucket")).toMatchObject({
      status: "fail",
      fix: "synkti infra up --project-name p",
    });
  });

  it("a hanging observation hits its own deadline and does not hide the others", async () => {
    clock = new FakeClock();
    const { report } = await run([req("slow", 60_000, pass, undefined, 2000), req("quick", 10, fail)], 2000);
    expect(report.requirements.find((r) => r.id === "slow")).toMatchObject({ status: "unknown" });
    expect(report.requirements.find((r) => r.id === "slow")!.observed).toMatch(/did not answer within 2000 ms/);
    expect(report.requirements.find((r) => r.id === "quick")).toMatchObject({ status: "fail" });
    expect(report.verdict).toBe("UNSAFE");
    expect(clock.pending()).toBe(0);
  });

  it("no deadline is shorter than minTimeoutMs: the AWS call's own deadline (naming the endpoint) is what ends a silent observation", async () => {
    clock = new FakeClock();
    const silent = new SynktiError("AWS did not answer at http://127.0.0.1:9 (sts GetCallerIdentity) within 3 s", { code: "aws-no-answer", kind: "unobservable", remedy: "synkti preflight --project-name p" });
    const ctx: Ctx = { log: [] };
    const done = runPreflight([req("creds", 3000, silent, undefined, 1000)], ctx, { clock, defaultTimeoutMs: 5000, minTimeoutMs: 4000 });
    await clock.advance(3000);
    const { requirements } = await done;
    expect(requirements[0]).toMatchObject({ status: "unknown", fix: "synkti preflight --project-name p" });
    expect(requirements[0]!.observed).toContain("AWS did not answer at http://127.0.0.1:9");
    expect(clock.pending()).toBe(0);
  });

  it("an observation that fails with a known remedy (throttling, credentials) keeps it as the fix", async () => {
    clock = new FakeClock();
    const throttled = new SynktiError("AWS throttled synkti", { code: "aws-throttled", kind: "unobservable", remedy: "wait a minute and run the same command again" });
    const { report } = await run([req("quota", 5, throttled)], 5);
    expect(report.requirements[0]).toMatchObject({ status: "unknown", fix: "wait a minute and run the same command again" });
  });

  it("an observation that throws is unknown, and the verdict is UNKNOWN when nothing failed", async () => {
    clock = new FakeClock();
    const { report } = await run([req("creds", 5, new Error("connect ECONNREFUSED 127.0.0.1:1")), req("region", 5, pass)], 5);
    expect(report.requirements[0]).toMatchObject({ status: "unknown", observed: expect.stringContaining("ECONNREFUSED") });
    expect(report.verdict).toBe("UNKNOWN");
  });

  it("orders dependencies first and refuses cycles and unknown dependencies", () => {
    const order = dependencyOrder([{ id: "b", dependsOn: ["a"] }, { id: "a" }, { id: "c" }]).map((r) => r.id);
    expect(order).toEqual(["a", "b", "c"]);
    expect(() => dependencyOrder([{ id: "a", dependsOn: ["b"] }, { id: "b", dependsOn: ["a"] }])).toThrow(/cycle/);
    expect(() => dependencyOrder([{ id: "a", dependsOn: ["zz"] }])).toThrow(/unknown 'zz'/);
  });

  it.each([
    [["pass", "warn"], "SAFE"],
    [["pass", "fail", "unknown"], "UNSAFE"],
    [["pass", "unknown"], "UNKNOWN"],
    [["pass", "blocked"], "UNKNOWN"],
    [["skipped"], "SAFE"],
  ] as const)("verdict of %j is %s", (statuses, verdict) => {
    expect(overallVerdict(statuses.map((status) => ({ status })))).toBe(verdict);
  });
});
