/**
 * `synkti status`'s desired size and repair state, from the bucket: inactive without desired.json,
 * active, or paused by the workers' own rule (3 failed replacements in a row after setAt) with the
 * last failure's reason from its failure record and the fix.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { projectStatus } from "../../../src/deployer/fleet/status.js";
import { FakeConditional } from "./fake-conditional.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";
import { FakeLoadBalancer } from "./fake-load-balancer.js";
import { FakeObjects } from "./fake-objects.js";

const NOW = Date.parse("2026-11-29T13:00:00Z");
const SET_AT = "2026-11-29T12:00:00.000Z";
const worker = (slot: number) => ({ SynktiCluster: "proj", SynktiRole: "worker", SynktiSlot: String(slot), SynktiModel: "tiny", SynktiState: "serving" });

function setup(desired?: { workers: number; setAt: string }) {
  const ec2 = new FakeEc2();
  const objects = new FakeObjects("proj-models");
  const conditional = new FakeConditional("proj-models");
  if (desired) conditional.set("cluster/desired.json", JSON.stringify(desired));
  const clock = instantClock(NOW);
  const deps = { ec2, objects, conditional, clock, lb: new FakeLoadBalancer(clock), log: silentLogger, askHealth: async () => ({ health: "unknown" as const, detail: null }) };
  return { ec2, objects, deps };
}
const outcome = (objects: FakeObjects, n: number, result: "served" | "failed", at: string, reason = "never served within 30 minutes") => {
  const replacement = `i-0eeeeeeeeeeeeeee${n}`;
  objects.put(`checkpoints/repair/1-i-0000000000000000${n}.json`, JSON.stringify({ slot: 1, cause: `i-0000000000000000${n}`, replacement, outcome: result, at, reason }), new Date(Date.parse(at)));
  return replacement;
};

describe("status: desired size, slots and repair", () => {
  it("no desired.json: repair inactive, and why", async () => {
    const { ec2, deps } = setup();
    ec2.add("us-east-1a", worker(0));
    const status = await projectStatus(deps, "proj");
    expect(status).toMatchObject({ desired: null, emptySlots: [], repair: { state: "inactive", lastFailure: null, fix: null } });
    expect(status.desiredUnavailable).toMatch(/^no cluster\/desired\.json .*the workers do not repair silent deaths$/);
  });

  it("desired 3 with slots 0 and 2 held: slot 1 empty, repair active; each worker's slot from its tag", async () => {
    const { ec2, objects, deps } = setup({ workers: 3, setAt: SET_AT });
    ec2.add("us-east-1a", worker(0));
    ec2.add("us-east-1b", worker(2));
    outcome(objects, 1, "failed", "2026-11-29T12:10:00.000Z");
    outcome(objects, 2, "served", "2026-11-29T12:20:00.000Z");
    const status = await projectStatus(deps, "proj");
    expect(status.desired).toEqual({ workers: 3, setAt: SET_AT });
    expect(status.emptySlots).toEqual([1]);
    expect(status.workers.map((w) => w.slot).sort()).toEqual([0, 2]);
    expect(status.repair).toEqual({ state: "active", failuresInARow: 0, lastFailure: null, fix: null, unavailable: null });
  });

  it("3 failed replacements in a row after setAt: paused, with the failure record's reason and the fix", async () => {
    const { ec2, objects, deps } = setup({ workers: 2, setAt: SET_AT });
    ec2.add("us-east-1a", worker(0));
    outcome(objects, 1, "failed", "2026-11-29T12:10:00.000Z");
    outcome(objects, 2, "failed", "2026-11-29T12:20:00.000Z");
    const last = outcome(objects, 3, "failed", "2026-11-29T12:30:00.000Z");
    objects.put(`checkpoints/logs/${last}.json`, JSON.stringify({ instanceId: last, at: "2026-11-29T12:29:00Z", exitCode: 1, reason: "model server exited 1: CUDA out of memory" }), new Date(NOW - 60_000));
    const status = await projectStatus(deps, "proj", { region: "us-east-1" });
    expect(status.repair).toEqual({
      state: "paused",
      failuresInARow: 3,
      lastFailure: { instanceId: last, slot: 1, at: "2026-11-29T12:30:00.000Z", reason: "model server exited 1: CUDA out of memory" },
      fix: `synkti logs --project-name proj --region us-east-1 ${last}   # fix the cause, then: synkti --project-name proj --region us-east-1 --model tiny --workers 2 --yes`,
      unavailable: null,
    });
  });

  it("failures before the desired size was last set do not count (a new setAt lifts the pause)", async () => {
    const { objects, deps } = setup({ workers: 2, setAt: "2026-11-29T12:40:00.000Z" });
    for (const n of [1, 2, 3]) outcome(objects, n, "failed", `2026-11-29T12:${n}0:00.000Z`);
    expect((await projectStatus(deps, "proj")).repair.state).toBe("active");
  });

  it("a failed replacement's forged id never reaches a key or a printed command", async () => {
    const { objects, deps } = setup({ workers: 1, setAt: SET_AT });
    for (const n of [1, 2]) outcome(objects, n, "failed", `2026-11-29T12:${n}0:00.000Z`);
    objects.put("checkpoints/repair/0-x.json", JSON.stringify({ slot: 0, cause: "x", replacement: "i-1; rm -rf /", outcome: "failed", at: "2026-11-29T12:50:00.000Z", reason: "r" }), new Date(NOW - 1000));
    const { repair } = await projectStatus(deps, "proj");
    expect(repair.state).toBe("paused");
    expect(repair.fix).toMatch(/^synkti logs --project-name proj <instance id>   # fix the cause/);
    expect(objects.reads).not.toContain("checkpoints/logs/i-1; rm -rf /.json");
  });
});
