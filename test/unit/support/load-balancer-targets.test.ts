/**
 * The load balancer stand-in's target table, on a fake clock: ALB's health states and reasons,
 * least outstanding requests, and draining up to the deregistration delay.
 */
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../support/fake-clock.js";
import { matchesCode, TargetTable, type CheckResult } from "../../support/load-balancer/targets.js";

const OK: CheckResult = { ok: true };
const REFUSED: CheckResult = { ok: false, reason: "Target.FailedHealthChecks", description: "Health checks failed (ECONNREFUSED)" };
const thresholds = { healthyThreshold: 2, unhealthyThreshold: 3 };
const a = { instanceId: "i-a", port: 8000 };
const b = { instanceId: "i-b", port: 8000 };
const c = { instanceId: "i-c", port: 8000 };
const stateOf = (table: TargetTable, id: string) => table.list().find((t) => t.instanceId === id);

function healthyTable(clock = new FakeClock(), targets = [a, b, c]) {
  const table = new TargetTable(clock);
  for (const key of table.sync(targets, 90_000)) for (let i = 0; i < 2; i++) table.record(key, OK, thresholds);
  return table;
}

describe("load balancer targets", () => {
  it("a new target is initial until the healthy threshold of successes, and gets no traffic before", () => {
    const table = new TargetTable(new FakeClock());
    expect(table.sync([a], 90_000)).toEqual(["i-a:8000"]);
    expect(stateOf(table, "i-a")).toMatchObject({ state: "initial", reason: "Elb.RegistrationInProgress" });
    expect(table.pick()).toBeUndefined();
    table.record("i-a:8000", OK, thresholds);
    expect(stateOf(table, "i-a")).toMatchObject({ state: "initial", reason: "Elb.InitialHealthChecking" });
    expect(table.pick()).toBeUndefined();
    table.record("i-a:8000", OK, thresholds);
    expect(stateOf(table, "i-a")).toEqual({ instanceId: "i-a", port: 8000, state: "healthy" });
    expect(table.pick()).toMatchObject(a);
    expect(table.sync([a], 90_000)).toEqual([]); // already known: no second health checker
  });

  it("unhealthy only after the unhealthy threshold of consecutive failures, healthy again after the healthy threshold", () => {
    const table = healthyTable(new FakeClock(), [a]);
    table.record("i-a:8000", REFUSED, thresholds);
    table.record("i-a:8000", REFUSED, thresholds);
    table.record("i-a:8000", OK, thresholds); // a success in between starts the count over
    table.record("i-a:8000", REFUSED, thresholds);
    table.record("i-a:8000", REFUSED, thresholds);
    expect(stateOf(table, "i-a")?.state).toBe("healthy");
    table.record("i-a:8000", REFUSED, thresholds);
    expect(stateOf(table, "i-a")).toMatchObject({ state: "unhealthy", reason: "Target.FailedHealthChecks", description: "Health checks failed (ECONNREFUSED)" });
    expect(table.pick()).toBeUndefined();
    table.record("i-a:8000", OK, thresholds);
    expect(stateOf(table, "i-a")?.state).toBe("unhealthy");
    table.record("i-a:8000", OK, thresholds);
    expect(stateOf(table, "i-a")?.state).toBe("healthy");
  });

  it("an initial target that keeps failing becomes unhealthy", () => {
    const table = new TargetTable(new FakeClock());
    table.sync([a], 90_000);
    for (let i = 0; i < 3; i++) table.record("i-a:8000", { ok: false, reason: "Target.ResponseCodeMismatch", description: "Health checks failed with these codes: [503]" }, thresholds);
    expect(stateOf(table, "i-a")).toMatchObject({ state: "unhealthy", reason: "Target.ResponseCodeMismatch" });
  });

  it("least outstanding requests: a busy target is passed over; equals take turns", () => {
    const table = healthyTable();
    const picks = Array.from({ length: 6 }, () => table.pick()!.instanceId);
    expect(picks).toEqual(["i-a", "i-b", "i-c", "i-a", "i-b", "i-c"]);
    table.begin("i-a:8000");
    table.begin("i-b:8000");
    expect([table.pick()?.instanceId, table.pick()?.instanceId]).toEqual(["i-c", "i-c"]);
    table.begin("i-c:8000");
    table.begin("i-c:8000");
    expect(table.pick()?.instanceId).toMatch(/i-[ab]/);
    table.end("i-a:8000");
    expect(table.pick()?.instanceId).toBe("i-a");
    expect(table.requests()).toEqual({ "i-a": 1, "i-b": 1, "i-c": 2 });
    // A round_robin group ignores the load.
    expect(new Set(Array.from({ length: 3 }, () => table.pick("round_robin")?.instanceId))).toEqual(new Set(["i-a", "i-b", "i-c"]));
  });

  it("a deregistered target drains: no new requests, done once its last request ends", () => {
    const table = healthyTable();
    table.begin("i-a:8000");
    table.sync([b, c], 90_000);
    expect(table.sweep()).toEqual([]);
    expect(stateOf(table, "i-a")).toMatchObject({ state: "draining", reason: "Target.DeregistrationInProgress" });
    expect(Array.from({ length: 4 }, () => table.pick()?.instanceId)).not.toContain("i-a");
    table.record("i-a:8000", REFUSED, thresholds); // a late health check does not change a draining target
    expect(stateOf(table, "i-a")?.state).toBe("draining");
    table.end("i-a:8000");
    expect(stateOf(table, "i-a")).toBeUndefined();
    // With nothing in flight, deregistration completes at once (as AWS ends the delay early).
    table.sync([c], 90_000);
    expect(table.sweep()).toEqual([]);
    expect(stateOf(table, "i-b")).toBeUndefined();
  });

  it("the deregistration delay running out cuts what is still in flight", async () => {
    const clock = new FakeClock();
    const table = healthyTable(clock);
    table.begin("i-a:8000");
    table.sync([b, c], 90_000);
    await clock.advance(89_999);
    table.sync([b, c], 90_000); // a later listing does not restart the delay
    expect(table.sweep()).toEqual([]);
    expect(stateOf(table, "i-a")?.state).toBe("draining");
    await clock.advance(1);
    expect(table.sweep()).toEqual(["i-a:8000"]);
    expect(stateOf(table, "i-a")).toBeUndefined();
  });

  it("a target registered again while draining starts over as initial", () => {
    const table = healthyTable();
    table.begin("i-a:8000");
    table.sync([b, c], 90_000);
    expect(table.sync([a, b, c], 90_000)).toEqual(["i-a:8000"]);
    expect(stateOf(table, "i-a")?.state).toBe("initial");
    expect(table.outstanding("i-a:8000")).toBe(1);
  });

  it("matches status codes with ALB's matcher syntax", () => {
    expect(matchesCode(200, "200")).toBe(true);
    expect(matchesCode(503, "200")).toBe(false);
    expect(matchesCode(202, "200,202")).toBe(true);
    expect(matchesCode(299, "200-299")).toBe(true);
    expect(matchesCode(300, "200-299")).toBe(false);
  });
});
