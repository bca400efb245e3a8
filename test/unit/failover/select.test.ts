import { describe, expect, it } from "vitest";
import { poolKey, rankPools, type SelectInput } from "../../../src/failover/select.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const base: SelectInput = {
  doomed: { instanceType: "g5.xlarge", zone: "a" },
  instanceTypes: ["g5.xlarge", "g6.xlarge"],
  onDemandFallback: false,
  failureMemoryMs: 600_000,
  now: NOW,
  peers: [],
  lbZones: ["a", "b", "c"],
  recentFailures: [],
  stopping: false,
};
const g5 = (zone: string) => ({ instanceType: "g5.xlarge", zone });
const g6 = (zone: string) => ({ instanceType: "g6.xlarge", zone });
const order = (over: Partial<SelectInput>) => rankPools({ ...base, ...over }).map((c) => `${poolKey(c)}${c.market === "on-demand" ? "*" : ""}`);

describe("SELECT: the order replacements are tried in", () => {
  it.each<[string, Partial<SelectInput>, string[]]>([
    ["never the interrupted pool; same type in other zones before the next type", {}, ["g5.xlarge/b", "g5.xlarge/c", "g6.xlarge/a", "g6.xlarge/b", "g6.xlarge/c"]],
    ["fewer live peers in the pool first", { peers: [g5("b"), g5("b")] }, ["g5.xlarge/c", "g5.xlarge/b", "g6.xlarge/a", "g6.xlarge/c", "g6.xlarge/b"]],
    ["then fewer in the zone", { peers: [g6("b")], instanceTypes: ["g5.xlarge"] }, ["g5.xlarge/c", "g5.xlarge/b"]],
    ["only zones the load balancer serves", { lbZones: ["a", "c"] }, ["g5.xlarge/c", "g6.xlarge/a", "g6.xlarge/c"]],
    ["not a pool that failed recently", { recentFailures: [{ pool: g5("b"), at: NOW - 60_000 }] }, ["g5.xlarge/c", "g6.xlarge/a", "g6.xlarge/b", "g6.xlarge/c"]],
    ["a failure older than the memory is forgotten", { recentFailures: [{ pool: g5("b"), at: NOW - 600_000 }] }, ["g5.xlarge/b", "g5.xlarge/c", "g6.xlarge/a", "g6.xlarge/b", "g6.xlarge/c"]],
    ["the doomed worker's type first, whatever the operator's order", { instanceTypes: ["g6.xlarge", "g5.xlarge"], lbZones: ["a", "b"] }, ["g5.xlarge/b", "g6.xlarge/a", "g6.xlarge/b"]],
    ["after the doomed worker's type, the others in the launch's order", { instanceTypes: ["g6e.xlarge", "g5.xlarge", "g6.xlarge"], lbZones: ["a", "b"] }, ["g5.xlarge/b", "g6e.xlarge/a", "g6e.xlarge/b", "g6.xlarge/a", "g6.xlarge/b"]],
    ["never a type outside the allowed list (the worker policy would refuse it)", { instanceTypes: ["g6.xlarge"], lbZones: ["a", "b"] }, ["g6.xlarge/a", "g6.xlarge/b"]],
    ["on-demand after every spot pool, interrupted pool included", { onDemandFallback: true, lbZones: ["a", "b"], instanceTypes: ["g5.xlarge"] }, ["g5.xlarge/b", "g5.xlarge/a*", "g5.xlarge/b*"]],
    ["nothing when the load balancer serves only the interrupted zone and one type is allowed", { lbZones: ["a"], instanceTypes: ["g5.xlarge"] }, []],
  ])("%s", (_name, over, expected) => {
    expect(order(over)).toEqual(expected);
  });
});
