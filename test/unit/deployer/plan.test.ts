import { describe, expect, it } from "vitest";
import type { InstanceSummary } from "../../../src/aws/ec2-instances.js";
import { describePlan, leastLoaded, planLaunch } from "../../../src/deployer/launch/plan.js";
import { buildProposal, proposalQuestion, renderProposal } from "../../../src/deployer/launch/proposal.js";
import { ZONES } from "./fake-ec2.js";

const worker = (zone: string): InstanceSummary => ({
  instanceId: `i-${Math.random().toString(16).slice(2, 10)}`,
  state: "running",
  availabilityZone: zone,
  instanceType: "g5.xlarge",
  launchTime: undefined,
  privateIp: undefined,
  market: "spot",
  tags: {},
});

describe("planLaunch: desired vs observed", () => {
  it.each([
    { desired: 3, existing: [], toLaunch: 3 },
    { desired: 3, existing: ["us-east-1a"], toLaunch: 2 },
    { desired: 3, existing: ["us-east-1a", "us-east-1b", "us-east-1c"], toLaunch: 0 },
    { desired: 2, existing: ["us-east-1a", "us-east-1b", "us-east-1c"], toLaunch: 0 },
  ])("$desired wanted, $existing.length there: launch $toLaunch", ({ desired, existing, toLaunch }) => {
    const plan = planLaunch({ desired, workers: existing.map(worker), zones: ZONES });
    expect(plan.toLaunch).toBe(toLaunch);
    expect(plan.placements).toHaveLength(toLaunch);
    expect(plan.active).toBe(existing.length);
  });

  it("fills the emptiest zone first, ties in zone order (round-robin from the fewest)", () => {
    const plan = planLaunch({ desired: 6, workers: ["us-east-1a", "us-east-1a", "us-east-1b"].map(worker), zones: ZONES });
    expect(plan.placements).toEqual(["us-east-1c", "us-east-1b", "us-east-1c"]);
    const empty = planLaunch({ desired: 5, workers: [], zones: ["us-east-1c", "us-east-1a", "us-east-1b"] });
    expect(empty.placements).toEqual(["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a", "us-east-1b"]);
  });

  it("counts workers in zones it cannot use toward the total, not toward a zone", () => {
    const plan = planLaunch({ desired: 3, workers: [worker("us-east-1e")], zones: ZONES });
    expect(plan.toLaunch).toBe(2);
    expect(plan.counts).toEqual({ "us-east-1a": 0, "us-east-1b": 0, "us-east-1c": 0 });
  });

  it("places nothing when no zone is usable (the launch then refuses)", () => {
    expect(planLaunch({ desired: 2, workers: [], zones: [] }).placements).toEqual([]);
  });

  it("says what it will do: how many, where, which slots; a scale down names the slots that retire", () => {
    expect(describePlan(planLaunch({ desired: 3, workers: [worker("us-east-1a")], zones: ZONES, slots: [1, 2] }))).toBe(
      "1 of 3 workers pending or running: launching 2 (1 in us-east-1b, 1 in us-east-1c, slots 1, 2)",
    );
    const scaleDown = { from: 3, to: 1, retiring: [{ slot: 1, instanceId: "i-b" }, { slot: 2, instanceId: "i-c" }] };
    expect(describePlan(planLaunch({ desired: 1, workers: [worker("us-east-1a"), worker("us-east-1b"), worker("us-east-1c")], zones: ZONES, slots: [], scaleDown }))).toBe(
      "scale down from 3 to 1 workers: slot 1 (i-b), slot 2 (i-c) drain and terminate themselves (no request fails); launching nothing",
    );
  });
});

describe("leastLoaded", () => {
  it("skips exhausted zones and answers undefined when none is left", () => {
    const counts = { "us-east-1a": 0, "us-east-1b": 1, "us-east-1c": 1 };
    expect(leastLoaded(counts, ZONES, new Set())).toBe("us-east-1a");
    expect(leastLoaded(counts, ZONES, new Set(["us-east-1a"]))).toBe("us-east-1b");
    expect(leastLoaded(counts, ZONES, new Set(ZONES))).toBeUndefined();
  });
});

describe("the plan and the question of a scale down", () => {
  const target = { project: "proj", model: "tiny", instanceType: "g5.xlarge" };
  it("a lower size alone: the plan names the retiring slots, the question asks to retire them", () => {
    const scaleDown = { from: 3, to: 2, retiring: [{ slot: 2, instanceId: "i-c" }] };
    const p = buildProposal(planLaunch({ desired: 2, workers: [worker("us-east-1a"), worker("us-east-1b"), worker("us-east-1c")], zones: ZONES, slots: [], scaleDown }), target, undefined);
    expect(p).toMatchObject({ toLaunch: 0, slots: [], scaleDown });
    expect(renderProposal(p)).toBe("Plan for proj: scale down from 3 to 2 workers: slot 2 (i-c) drains and terminates itself (no request fails)");
    expect(proposalQuestion(p)).toBe("Retire 1 worker (desired 3 -> 2)? [y/N] ");
  });

  it("a lower intent with nothing to retire says so; a launch and a scale down together are asked together", () => {
    const none = buildProposal(planLaunch({ desired: 2, workers: [worker("us-east-1a")], zones: ZONES, slots: [1], scaleDown: { from: 3, to: 2, retiring: [] } }), target, { "us-east-1b": 0.5 });
    expect(renderProposal(none).split("\n")[0]).toBe("Plan for proj: desired lowered from 3 to 2 workers: no worker holds a slot from 2 up, none retires");
    expect(proposalQuestion(none)).toBe("Lower the desired workers from 3 to 2 and launch 1 x g5.xlarge (about $0.5/h)? [y/N] ");
  });
});
