/**
 * The desired size on the deployer's side: how `--workers` becomes it (the lowering rule), which
 * slots a launch fills and who a lower size retires (the workers' own census), and the claims a
 * launch makes before RunInstances (a slot a worker is repairing is left to that worker).
 */
import { describe, expect, it } from "vitest";
import type { InstanceState, InstanceSummary } from "../../../src/aws/ec2-instances.js";
import { silentLogger } from "../../../src/core/log.js";
import { claimSlots, decideDesired, slotView } from "../../../src/deployer/desired/index.js";
import { launchWorkers } from "../../../src/deployer/launch/launch.js";
import { projectNames } from "../../../src/infra/names.js";
import { FakeConditional } from "./fake-conditional.js";
import { FakeEc2, instantClock, ZONES } from "./fake-ec2.js";
import { FakeObjects } from "./fake-objects.js";

const set = (workers: number) => ({ workers, setAt: "2026-01-01T00:00:00.000Z" });

describe("decideDesired: --workers and cluster/desired.json", () => {
  it.each([
    { case: "no flag, no desired.json: 1, nothing written", flag: undefined, current: null, live: 0, want: { workers: 1, source: "default", write: false, lowering: null } },
    { case: "no flag, no desired.json, an older fleet of 3: still 1, nothing written, nothing lowered", flag: undefined, current: null, live: 3, want: { workers: 1, source: "default", write: false, lowering: null } },
    { case: "no flag, desired.json 3: kept", flag: undefined, current: set(3), live: 1, want: { workers: 3, source: "desired", write: false, lowering: null } },
    { case: "no flag, desired.json 0 (after down): kept at 0", flag: undefined, current: set(0), live: 0, want: { workers: 0, source: "desired", write: false, lowering: null } },
    { case: "flag 3 over desired 2: raised, written", flag: 3, current: set(2), live: 2, want: { workers: 3, source: "flag", write: true, lowering: null } },
    { case: "flag 2 over desired 2: written again (a new generation lifts a repair pause)", flag: 2, current: set(2), live: 2, want: { workers: 2, source: "flag", write: true, lowering: null } },
    { case: "flag 2 under desired 3: lowering 3 -> 2", flag: 2, current: set(3), live: 3, want: { workers: 2, source: "flag", write: true, lowering: { from: 3, to: 2 } } },
    { case: "flag 2 under desired 3 with only 1 live: still lowering the intent", flag: 2, current: set(3), live: 1, want: { workers: 2, source: "flag", write: true, lowering: { from: 3, to: 2 } } },
    { case: "flag 1, no desired.json, 3 live (older fleet): lowering 3 -> 1", flag: 1, current: null, live: 3, want: { workers: 1, source: "flag", write: true, lowering: { from: 3, to: 1 } } },
    { case: "flag 3, no desired.json, 3 live: set, nothing lowered", flag: 3, current: null, live: 3, want: { workers: 3, source: "flag", write: true, lowering: null } },
    { case: "flag 1 over desired 0 (after down): raised", flag: 1, current: set(0), live: 0, want: { workers: 1, source: "flag", write: true, lowering: null } },
  ])("$case", ({ flag, current, live, want }) => {
    expect(decideDesired({ flag, current, live })).toEqual(want);
  });
});

let seq = 0;
const instance = (slot: number | undefined, state: InstanceState = "running", extra: Record<string, string> = {}, launchedAt = 0): InstanceSummary => ({
  instanceId: `i-${(++seq).toString(16).padStart(8, "0")}`,
  state,
  availabilityZone: "us-east-1a",
  instanceType: "g5.xlarge",
  launchTime: new Date(launchedAt),
  privateIp: undefined,
  market: "spot",
  tags: { SynktiCluster: "proj", SynktiRole: "worker", ...(slot === undefined ? {} : { SynktiSlot: String(slot) }), ...extra },
});

describe("slotView: the lowest empty slots, and who a lower size retires", () => {
  it.each([
    { case: "empty project, desired 3: fill 0, 1, 2", fleet: () => [], desired: 3, fill: [0, 1, 2], surplus: [] as number[] },
    { case: "slots 0 and 2 held, desired 3: fill 1", fleet: () => [instance(0), instance(2)], desired: 3, fill: [1], surplus: [] },
    { case: "slots 0, 1, 2 held, desired 2: slot 2 is surplus, nothing to fill", fleet: () => [instance(0), instance(1), instance(2)], desired: 2, fill: [], surplus: [2] },
    { case: "slots 0..3 held, desired 1: 1, 2, 3 surplus", fleet: () => [instance(0), instance(1), instance(2), instance(3)], desired: 1, fill: [], surplus: [1, 2, 3] },
    { case: "a terminated holder leaves its slot empty", fleet: () => [instance(0), instance(1, "terminated")], desired: 2, fill: [1], surplus: [] },
    { case: "a retiring or failed worker holds nothing", fleet: () => [instance(0, "running", { SynktiState: "retiring" }), instance(1, "running", { SynktiState: "failed" })], desired: 2, fill: [0, 1], surplus: [] },
    { case: "a worker down is stopping holds nothing", fleet: () => [instance(0, "running", { SynktiStopping: "true" })], desired: 1, fill: [0], surplus: [] },
    { case: "two untagged workers (older synkti) fill 0 and 1 virtually", fleet: () => [instance(undefined), instance(undefined)], desired: 3, fill: [2], surplus: [] },
    { case: "desired 0 (after down): nothing to fill, every holder surplus", fleet: () => [instance(0)], desired: 0, fill: [], surplus: [0] },
  ])("$case", ({ fleet, desired, fill, surplus }) => {
    const view = slotView(fleet(), desired, 1_000);
    expect(view.fill.map((f) => f.slot)).toEqual(fill);
    expect(view.surplus.map((s) => s.slot)).toEqual(surplus);
  });

  it("an empty slot's cause is the last instance that carried it, so the launch's claim has the name a worker's would", () => {
    const old = instance(1, "terminated", {}, 1_000);
    const older = instance(1, "terminated", {}, 500);
    expect(slotView([instance(0), older, old], 2, 5_000).fill).toEqual([{ slot: 1, causeInstance: old.instanceId }]);
  });
});

describe("claimSlots: the launch claims before RunInstances, with the worker's claim names", () => {
  const names = projectNames("proj");
  const deps = () => {
    const conditional = new FakeConditional(names.bucket);
    const objects = new FakeObjects(names.bucket);
    // The fake listing reads what the conditional fake holds (one bucket, two views of it).
    objects.list = async (_b, prefix) => ({ objects: [...conditional.objects.keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: 1, lastModified: new Date(900_000) })), truncated: false });
    return { conditional, objects, clock: instantClock(1_000_000), log: silentLogger };
  };

  it("a never-filled slot is claimed after the generation; a slot left by a dead holder after that holder", async () => {
    const d = deps();
    const dead = instance(1, "terminated", {}, 0);
    const view = slotView([instance(0), dead], 3, 1_000_000);
    const out = await claimSlots(d, names, view.fill, "d1767225600000", "l-1", view.view);
    expect(out.held).toEqual([]);
    expect(out.claimed).toEqual([
      { slot: 1, key: `checkpoints/claims/1-${dead.instanceId}` },
      { slot: 2, key: "checkpoints/claims/2-d1767225600000" },
    ]);
    expect(JSON.parse(d.conditional.text("checkpoints/claims/2-d1767225600000")!)).toEqual({ slot: 2, cause: "d1767225600000", claimer: "l-1", at: expect.any(String), attempt: 1 });
  });

  it("a slot a worker's repair already claimed is left to it (the launch fills the others)", async () => {
    const d = deps();
    d.conditional.set("checkpoints/claims/0-d5", "{}"); // a worker's fresh claim
    const view = slotView([], 2, 1_000_000);
    const out = await claimSlots(d, names, view.fill, "d5", "l-1", view.view);
    expect(out.held.map((h) => h.slot)).toEqual([0]);
    expect(out.claimed.map((c) => c.slot)).toEqual([1]);
  });

  it("a long-lived cluster (more claims than one listing holds, the fresh one under a name S3 lists last): a slot a worker just claimed is still left to it", async () => {
    const d = deps();
    for (let n = 0; n < 5100; n++) d.conditional.set(`checkpoints/claims/0-i-${String(n).padStart(17, "0")}`, "{}"); // failovers' and repairs' claims of years
    // A worker's fresh claim of slot 7, named after an instance its listing showed there (the launch's view names the generation).
    d.conditional.set("checkpoints/claims/7-i-0aaaaaaaaaaaaaaaa", "{}");
    const all = d.objects.list;
    d.objects.list = async (b, prefix, options) => {
      const listed = await all(b, prefix, options);
      if (listed === "no-bucket") return listed;
      return { objects: listed.objects.slice(0, options.maxKeys), truncated: listed.objects.length > options.maxKeys };
    };
    const view = slotView([], 8, 1_000_000);
    const out = await claimSlots(d, names, view.fill.filter((f) => f.slot === 7), "d5", "l-1", view.view);
    expect(out).toEqual({ claimed: [], held: [{ slot: 7, key: "checkpoints/claims/7-i-0aaaaaaaaaaaaaaaa" }] });
    expect(d.conditional.text("checkpoints/claims/7-d5")).toBeUndefined();
  });

  it("a claim created between the listing and the write (412) leaves the slot too", async () => {
    const d = deps();
    d.conditional.beforeWrite = (key) => {
      if (key.endsWith("/0-d5") && !d.conditional.objects.has(key)) d.conditional.set(key, "{}");
    };
    const view = slotView([], 1, 1_000_000);
    expect(await claimSlots(d, names, view.fill, "d5", "l-1", view.view)).toEqual({ claimed: [], held: [{ slot: 0, key: "checkpoints/claims/0-d5" }] });
  });
});

describe("launchWorkers with a desired size", () => {
  const target = () => ({
    project: "proj", model: "m", region: "us-east-1", instanceType: "g5.xlarge", imageId: "ami-1", securityGroupId: "sg-1", instanceProfile: "proj-synkti-worker",
    subnets: Object.fromEntries(ZONES.map((z) => [z, `subnet-${z}`])), userData: "#!/bin/bash\n", binarySha256: "a".repeat(64),
  });
  const setup = () => {
    const ec2 = new FakeEc2();
    const conditional = new FakeConditional("proj-models");
    const objects = new FakeObjects("proj-models");
    return { ec2, conditional, deps: { ec2, conditional, objects, clock: instantClock(), log: silentLogger } };
  };
  const intent = (flag: number | undefined, current: ReturnType<typeof set> | null, live = 0) => ({
    decision: decideDesired({ flag, current, live }),
    read: current ? ({ status: "set", desired: current, etag: '"1"' } as const) : ({ status: "absent" } as const),
    rerun: "synkti --project-name proj --model m",
  });

  it("--workers writes the desired size before launching, and the launch claims and tags each slot it fills", async () => {
    const { ec2, conditional, deps } = setup();
    const result = await launchWorkers(deps, { target: target(), workers: 2, intent: intent(2, null) });
    expect(JSON.parse(conditional.text("cluster/desired.json")!)).toEqual({ workers: 2, setAt: "2026-01-01T00:00:00.000Z" });
    expect(conditional.writes).toEqual(["cluster/desired.json", "checkpoints/claims/0-d1767225600000", "checkpoints/claims/1-d1767225600000"]);
    expect(result).toMatchObject({ desiredFile: { workers: 2 }, desiredSource: "flag", heldSlots: [] });
    expect(ec2.runSpecs.map((s) => s.tags.SynktiSlot).sort()).toEqual(["0", "1"]);
  });

  it("a lower size launches nothing: the plan names the surplus, which retires itself", async () => {
    const { ec2, conditional, deps } = setup();
    const ids = [ec2.add("us-east-1a", { SynktiCluster: "proj", SynktiRole: "worker", SynktiSlot: "0" }), ec2.add("us-east-1b", { SynktiCluster: "proj", SynktiRole: "worker", SynktiSlot: "1" }), ec2.add("us-east-1c", { SynktiCluster: "proj", SynktiRole: "worker", SynktiSlot: "2" })];
    conditional.set("cluster/desired.json", JSON.stringify(set(3)));
    const result = await launchWorkers(deps, { target: target(), workers: 2, intent: { ...intent(2, set(3), 3), read: { status: "set", desired: set(3), etag: '"1"' } } });
    expect(ec2.calls.run).toBeUndefined();
    expect(ec2.calls.terminate).toBeUndefined(); // the surplus ends itself, through the load balancer
    expect(result.plan.scaleDown).toEqual({ from: 3, to: 2, retiring: [{ slot: 2, instanceId: ids[2] }] });
    expect(result.message).toBe(`scale down from 3 to 2 workers: slot 2 (${ids[2]}) drains and terminates itself (no request fails); launching nothing`);
    expect(JSON.parse(conditional.text("cluster/desired.json")!).workers).toBe(2);
  });

  it("no --workers and no desired.json: one worker, no desired.json written, no claim (repair stays inactive)", async () => {
    const { ec2, conditional, deps } = setup();
    const result = await launchWorkers(deps, { target: target(), workers: 1, intent: intent(undefined, null) });
    expect(conditional.writes).toEqual([]);
    expect(result).toMatchObject({ desiredFile: null, desiredSource: "default" });
    expect(ec2.runSpecs.map((s) => s.tags.SynktiSlot)).toEqual(["0"]);
  });

  it("a launch undone puts the desired size back and removes its claims", async () => {
    const { ec2, conditional, deps } = setup();
    conditional.set("cluster/desired.json", JSON.stringify(set(1)));
    for (const zone of ZONES) ec2.capacityIn.add(zone);
    const error = await launchWorkers(deps, { target: target(), workers: 2, intent: { ...intent(2, set(1)), read: { status: "set", desired: set(1), etag: conditional.objects.get("cluster/desired.json")!.etag } } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "no-capacity", message: expect.stringContaining("The desired size is back to 1.") });
    expect(JSON.parse(conditional.text("cluster/desired.json")!)).toEqual(set(1)); // the same generation as before
    expect([...conditional.objects.keys()].filter((k) => k.startsWith("checkpoints/claims/"))).toEqual([]);
  });
});
