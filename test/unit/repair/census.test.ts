import { describe, expect, it } from "vitest";
import { census, parseSlot, type SeenInstance } from "../../../src/repair/index.js";
import { at, i } from "./fixtures.js";

const GEN = "d1";
const run = (desired: number, instances: SeenInstance[], listedAt = at(60)) => census({ desired, generation: GEN, listing: { at: listedAt, instances }, now: listedAt });
const holdersOf = (c: ReturnType<typeof run>) => Object.fromEntries([...c.holders].sort(([a], [b]) => a - b).map(([slot, hs]) => [slot, hs.map((h) => `${h.instance.id}${h.virtual ? "*" : ""}`)]));

describe("census: who holds which slot", () => {
  it.each<[string, number, SeenInstance[], Record<number, string[]>, string[]]>([
    ["every slot held", 3, [i("a", { slot: 0 }), i("b", { slot: 1 }), i("c", { slot: 2 })], { 0: ["a"], 1: ["b"], 2: ["c"] }, []],
    ["a terminated holder leaves its slot empty, named after it", 3, [i("a", { slot: 0 }), i("b", { slot: 1, state: "terminated" }), i("c", { slot: 2 })], { 0: ["a"], 2: ["c"] }, ["1-b"]],
    ["stopped, stopping and shutting-down hold nothing", 3, [i("a", { slot: 0, state: "stopped" }), i("b", { slot: 1, state: "stopping" }), i("c", { slot: 2, state: "shutting-down" })], {}, ["0-a", "1-b", "2-c"]],
    ["pending holds (a replacement on its way)", 1, [i("a", { slot: 0, state: "pending", synkti: "booting", served: false })], { 0: ["a"] }, []],
    ["retiring and failed hold nothing", 2, [i("a", { slot: 0, synkti: "retiring" }), i("b", { slot: 1, synkti: "failed" })], {}, ["0-a", "1-b"]],
    ["draining still holds (its failover hands it over)", 1, [i("a", { slot: 0, synkti: "draining" })], { 0: ["a"] }, []],
    ["a slot never carried is named after the generation", 2, [i("a", { slot: 0 })], { 0: ["a"] }, [`1-${GEN}`]],
    ["the cause is the most recently launched instance that carried the slot", 1, [i("old", { slot: 0, state: "terminated", launched: 0 }), i("new", { slot: 0, state: "terminated", launched: 10 })], {}, ["0-new"]],
    ["untagged workers (older synkti) fill the lowest empty slots in id order", 3, [i("z"), i("b", { slot: 0 }), i("y")], { 0: ["b"], 1: ["y*"], 2: ["z*"] }, []],
    ["a bad slot tag is no slot (untrusted tags)", 2, [i("a", { slot: "01" }), i("b", { slot: "x" })], { 0: ["a*"], 1: ["b*"] }, []],
  ])("%s", (_name, desired, instances, holders, empty) => {
    const c = run(desired, instances);
    expect(holdersOf(c)).toEqual(holders);
    expect(c.empty.map((e) => `${e.slot}-${e.cause}`)).toEqual(empty);
  });

  it("the empty slot carries its last holder for the spawn (type, zone)", () => {
    const c = run(1, [i("a", { slot: 0, state: "terminated" })]);
    expect(c.empty[0]?.causeInstance).toMatchObject({ id: "a", instanceType: "g5.xlarge", zone: "us-east-1a" });
  });

  it("a fresher single-instance check overrides the listing; an older one does not", () => {
    const instances = [i("a", { slot: 0 })];
    const fresh = census({ desired: 1, generation: GEN, listing: { at: at(60), instances }, checks: [{ id: "a", state: "terminated", at: at(61) }], now: at(61) });
    expect(fresh.empty.map((e) => e.cause)).toEqual(["a"]);
    const old = census({ desired: 1, generation: GEN, listing: { at: at(60), instances }, checks: [{ id: "a", state: "terminated", at: at(59) }], now: at(61) });
    expect(old.empty).toEqual([]);
  });
});

describe("census: surplus, duplicates, never served", () => {
  it("holders of slots >= desired are surplus, untagged ones past the last slot too", () => {
    const c = run(2, [i("a", { slot: 0 }), i("b", { slot: 1 }), i("c", { slot: 2 }), i("u")]);
    expect(c.surplus.map((h) => `${h.instance.id}@${h.slot}`).sort()).toEqual(["c@2", "u@3"]);
  });

  it.each<[string, SeenInstance[], string[]]>([
    ["the later launch retires", [i("a", { slot: 0, launched: 1 }), i("b", { slot: 0, launched: 2 })], ["b->a"]],
    ["same launch time: the larger id retires", [i("b", { slot: 0 }), i("a", { slot: 0 })], ["b->a"]],
    ["a handover is no duplicate (the replacement names its predecessor)", [i("a", { slot: 0, synkti: "draining" }), i("r", { slot: 0, replaces: "a", launched: 5 })], []],
    ["an extra launch beside a handover retires; the handover stays", [i("a", { slot: 0, synkti: "draining" }), i("x", { slot: 0, launched: 3 }), i("r", { slot: 0, replaces: "a", launched: 5 })], ["x->a"]],
    ["three holders, two extra", [i("a", { slot: 0 }), i("b", { slot: 0, launched: 1 }), i("c", { slot: 0, launched: 2 })], ["b->a", "c->a"]],
  ])("duplicates: %s", (_name, instances, expected) => {
    expect(run(1, instances).duplicates.map((d) => `${d.retire}->${d.keep}`)).toEqual(expected);
  });

  it.each<[string, SeenInstance, number, boolean]>([
    ["booting for 31 min without serving", i("a", { slot: 0, synkti: "booting", served: false, launched: 0 }), at(31), true],
    ["booting for 29 min: still has time", i("a", { slot: 0, synkti: "booting", served: false, launched: 0 }), at(29), false],
    ["served once", i("a", { slot: 0, synkti: "booting", launched: 0 }), at(31), false],
    ["serving without SynktiServedAt (an older synkti)", i("a", { slot: 0, synkti: "serving", served: false, launched: 0 }), at(120), false],
  ])("never served: %s", (_name, instance, listedAt, expected) => {
    expect(run(1, [instance], listedAt).neverServed.length > 0).toBe(expected);
  });
});

describe("parseSlot", () => {
  it.each<[string | undefined, number | undefined]>([
    ["0", 0], ["7", 7], ["9999", 9999], ["10000", undefined], ["01", undefined], ["+1", undefined], ["1e2", undefined], [" 1", undefined], ["-1", undefined], ["", undefined], [undefined, undefined],
  ])("%s -> %s", (value, slot) => {
    expect(parseSlot(value)).toBe(slot);
  });
});
