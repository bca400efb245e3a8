import { describe, expect, it } from "vitest";
import { projectNames } from "../../../src/infra/names.js";
import { decideRepair, parseClaimKey, REPAIR_GRACE_MS, rendezvousRank, watcherRing, type RepairAction, type RepairView, type SeenInstance } from "../../../src/repair/index.js";
import { at, desired, i, MIN, view } from "./fixtures.js";

const names = projectNames("demo");
const claim = (name: string, minute: number) => parseClaimKey(names, `${names.claimsPrefix}${name}`, at(minute))!;
const listed = (instances: SeenInstance[], minute = 60) => ({ listing: { at: at(minute), instances } });
const brief = (a: RepairAction) =>
  a.kind === "claim-launch" ? `claim ${a.name}` : a.kind === "retire-self" ? `retire-self ${a.reason}` : `retire-other ${a.instanceId}`;
const decide = (v: RepairView) => decideRepair(v).actions.map(brief);

/** Three members a, b, c in slots 0..2; `dead` terminated in the listing. */
const trio = (dead?: string) => ["a", "b", "c"].map((id, slot) => i(id, { slot, ...(id === dead ? { state: "terminated" as const } : {}) }));
/** The live member that goes first for a key (rank 0 among the live). */
const firstFor = (name: string, live: string[]) => live.find((m) => rendezvousRank(name, m, live) === 0)!;

describe("decideRepair", () => {
  it("no desired.json: inactive, nothing done (an older cluster)", () => {
    const d = decideRepair(view({ self: "a", desired: undefined, ...listed(trio("b")) }));
    expect(d).toMatchObject({ active: false, actions: [] });
  });

  it("all slots held: nothing", () => {
    expect(decide(view({ self: "a", ...listed(trio()) }))).toEqual([]);
  });

  it("a dead holder: the first in order claims at once, with the doomed's type and zone for the spawn", () => {
    const first = firstFor("1-b", ["a", "c"]);
    const d = decideRepair(view({ self: first, ...listed(trio("b")) }));
    expect(d.actions).toEqual([
      expect.objectContaining({
        kind: "claim-launch", slot: 1, cause: "b", attempt: 1, name: "1-b",
        body: expect.objectContaining({ slot: 1, cause: "b", claimer: first, attempt: 1 }),
        doomed: { slot: 1, launchId: "1-b", instanceId: "b", instanceType: "g5.xlarge", zone: "us-east-1a" },
      }),
    ]);
  });

  it("a non-watcher of rank 1 waits one grace from when it first noticed, then claims (its 412 is harmless)", () => {
    const members = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const instances = members.map((id, slot) => i(id, { slot, ...(id === "d" ? { state: "terminated" as const } : {}) }));
    const live = members.filter((m) => m !== "d");
    const watchers = watcherRing(members).watchersOf("d");
    const second = live.find((m) => !watchers.includes(m) && rendezvousRank("3-d", m, live) === 1);
    const third = live.find((m) => !watchers.includes(m) && rendezvousRank("3-d", m, live) >= 1)!;
    const self = second ?? third;
    const place = rendezvousRank("3-d", self, live);
    const first = decideRepair(view({ self, desired: desired(8), ...listed(instances) }));
    expect(first.actions).toEqual([]);
    expect(first.wakeAt).toBe(at(60) + Math.min(place, 3) * REPAIR_GRACE_MS);
    const early = decideRepair(view({ self, desired: desired(8), ...listed(instances), now: first.wakeAt! - 1, noticed: first.noticed }));
    expect(early.actions).toEqual([]);
    const later = decideRepair(view({ self, desired: desired(8), ...listed(instances), now: first.wakeAt!, noticed: first.noticed }));
    expect(later.actions.map(brief)).toEqual(["claim 3-d"]);
  });

  it("a dead member's watchers come first, nearest first, whatever the rendezvous order", () => {
    const members = ["a", "b", "c", "d", "e", "f", "g"];
    const instances = members.map((id, slot) => i(id, { slot, ...(id === "d" ? { state: "terminated" as const } : {}) }));
    const [w0, w1] = watcherRing(members).watchersOf("d");
    expect(decide(view({ self: w0!, desired: desired(7), ...listed(instances) }))).toEqual(["claim 3-d"]);
    const second = decideRepair(view({ self: w1!, desired: desired(7), ...listed(instances) }));
    expect(second.actions.length === 0 || rendezvousRank("3-d", w1!, members.filter((m) => m !== "d")) === 0).toBe(true);
  });

  it("an unreachable member that EC2 says is running: nothing (a partition launches nothing)", () => {
    // decideRepair has no input for reachability at all: only EC2 states. The listing says running.
    expect(decide(view({ self: "a", ...listed(trio()), members: ["a"] }))).toEqual([]);
  });

  it("a watcher's fresh EC2 check of a dead member is enough, before any new listing", () => {
    const first = firstFor("1-b", ["a", "c"]);
    expect(decide(view({ self: first, ...listed(trio(), 30), checks: [{ id: "b", state: "terminated", at: at(60) }] }))).toEqual(["claim 1-b"]);
  });

  it.each<[string, Array<[string, number]>, number, string[]]>([
    ["a fresh claim: someone is launching", [["1-b", 59]], 60, []],
    ["a stale claim: the next attempt", [["1-b", 45]], 60, ["claim 1-b.2"]],
    ["a claim after my (old) listing: my view is behind, wait for a newer one", [["1-b", 59]], 30, []],
  ])("claims: %s", (_name, claims, listingMinute, expected) => {
    const first = firstFor(expected[0]?.slice(6) ?? "1-b", ["a", "c"]);
    const v = view({ self: first, ...listed(trio("b"), listingMinute), claims: { at: at(60), seen: claims.map(([n, m]) => claim(n, m)) } });
    expect(decide(v)).toEqual(expected);
  });

  it("a slot never filled is claimed under the generation", () => {
    const d = desired(3);
    const gen = `d${Date.parse(d.setAt)}`;
    const instances = trio().slice(0, 2);
    const first = firstFor(`2-${gen}`, ["a", "b"]);
    expect(decide(view({ self: first, desired: d, ...listed(instances) }))).toEqual([`claim 2-${gen}`]);
  });

  it("surplus retires itself (and does nothing else)", () => {
    expect(decide(view({ self: "c", desired: desired(2), ...listed(trio()) }))).toEqual(["retire-self surplus"]);
    expect(decide(view({ self: "a", desired: desired(2), ...listed(trio()) }))).toEqual([]);
  });

  it("surplus stays while a slot below desired is empty, and may fill it itself; it retires once its listing shows the slot held", () => {
    const instances = [i("a", { slot: 0, state: "terminated" }), i("b", { slot: 1 }), i("c", { slot: 2 })];
    // desired 2: c (slot 2) is surplus, slot 0 is empty (a died). c is one of the two who may repair it.
    const empty = decideRepair(view({ self: "c", desired: desired(2), ...listed(instances), now: at(60) + 3 * REPAIR_GRACE_MS, noticed: { "0-a": at(60) } }));
    expect(empty.actions.map(brief)).toEqual(["claim 0-a"]);
    // Claimed, not yet listed: the launch may still die unseen, so c stays (and does nothing).
    expect(decide(view({ self: "c", desired: desired(2), ...listed(instances), claims: { at: at(61), seen: [claim("0-a", 59)] } }))).toEqual([]);
    const filled = [...instances, i("r", { slot: 0, state: "pending", synkti: "booting", served: false, launched: 59 })];
    expect(decide(view({ self: "c", desired: desired(2), ...listed(filled, 61), claims: { at: at(61), seen: [claim("0-a", 59)] } }))).toEqual(["retire-self surplus"]);
  });

  it("surplus retires while repair is paused (nobody would fill the open slot)", () => {
    const failed = (m: number) => ({ slot: 0, cause: `x${m}`, replacement: `r${m}`, outcome: "failed" as const, at: new Date(at(m)).toISOString(), reason: "boot" });
    const instances = [i("a", { slot: 0, state: "terminated" }), i("b", { slot: 1 }), i("c", { slot: 2 })];
    expect(decide(view({ self: "c", desired: desired(2), ...listed(instances), outcomes: [failed(1), failed(2), failed(3)] }))).toEqual(["retire-self surplus"]);
  });

  it("a duplicate: the later one retires itself, naming the one it leaves the slot to", () => {
    const instances = [i("a", { slot: 0 }), i("x", { slot: 0, launched: 5 }), i("b", { slot: 1 }), i("c", { slot: 2 })];
    expect(decideRepair(view({ self: "x", ...listed(instances) })).actions).toEqual([{ kind: "retire-self", reason: "duplicate", slot: 0, keep: "a" }]);
    expect(decide(view({ self: "a", ...listed(instances) }))).toEqual([]);
  });

  it("a draining member never retires itself as surplus: its failover is on it", () => {
    const instances = [...trio().slice(0, 2), i("c", { slot: 2, synkti: "draining" })];
    expect(decide(view({ self: "c", desired: desired(2), ...listed(instances) }))).toEqual([]);
  });

  it("a retiring or failed member repairs nothing", () => {
    const instances = [i("a", { slot: 0, synkti: "retiring" }), i("b", { slot: 1, state: "terminated" }), i("c", { slot: 2 })];
    expect(decideRepair(view({ self: "a", ...listed(instances) }))).toMatchObject({ actions: [], note: "this worker is leaving" });
  });

  it("never served for 30 min: terminated by the first in its slot's order, then its slot is repaired", () => {
    const stuck = i("b", { slot: 1, synkti: "booting", served: false, launched: 20 });
    const instances = [i("a", { slot: 0 }), stuck, i("c", { slot: 2 })];
    const first = firstFor("1-b", ["a", "c"]);
    const d = decideRepair(view({ self: first, ...listed(instances) }));
    expect(d.actions).toEqual([{ kind: "retire-other", instanceId: "b", slot: 1, reason: "never-served" }]);
    const second = ["a", "c"].find((m) => m !== first)!;
    expect(decide(view({ self: second, ...listed(instances) }))).toEqual([]);
    expect(decide(view({ self: first, ...listed(instances, 45) }))).toEqual([]);
  });

  it("paused: no claim, but a never-served instance is still retired (it only bills)", () => {
    const failed = (m: number) => ({ slot: 1, cause: `x${m}`, replacement: `r${m}`, outcome: "failed" as const, at: new Date(at(m)).toISOString(), reason: "boot" });
    const outcomes = [failed(1), failed(2), failed(3)];
    const d = decideRepair(view({ self: "a", ...listed(trio("b")), outcomes, now: at(60) + 10 * MIN }));
    expect(d).toMatchObject({ paused: true, actions: [] });
    const stuck = [i("a", { slot: 0 }), i("b", { slot: 1, synkti: "booting", served: false }), i("c", { slot: 2 })];
    const retire = decideRepair(view({ self: "a", ...listed(stuck), outcomes, now: at(70) }));
    expect(retire.actions.map(brief)).toEqual(["retire-other b"]);
  });

  it("a failed replacement tagged SynktiReplaces=<the claim's name> (the repair's launch id) is matched too", () => {
    const instances = [
      i("a", { slot: 0 }),
      i("old", { slot: 1, state: "terminated", launched: 0 }),
      i("r", { slot: 1, state: "terminated", replaces: "1-old.2", served: false, launched: 21 }),
      i("c", { slot: 2 }),
    ];
    const first = firstFor("1-r", ["a", "c"]);
    const d = decideRepair(view({ self: first, ...listed(instances), claims: { at: at(60), seen: [claim("1-old", 5), claim("1-old.2", 20)] } }));
    expect(d.actions).toEqual([expect.objectContaining({ missingOutcome: expect.objectContaining({ cause: "old.2", replacement: "r" }) })]);
  });

  it("a failed replacement's missing outcome is written by the next claimant", () => {
    const instances = [
      i("a", { slot: 0 }),
      i("old", { slot: 1, state: "terminated", launched: 0 }),
      i("r", { slot: 1, state: "terminated", replaces: "old", served: false, synkti: "failed", launched: 21 }),
      i("c", { slot: 2 }),
    ];
    const first = firstFor("1-r", ["a", "c"]);
    const d = decideRepair(view({ self: first, ...listed(instances), claims: { at: at(60), seen: [claim("1-old", 20)] } }));
    expect(d.actions).toEqual([expect.objectContaining({ name: "1-r", missingOutcome: expect.objectContaining({ slot: 1, cause: "old", replacement: "r", outcome: "failed" }) })]);
    const recorded = decideRepair(view({ self: first, ...listed(instances), claims: { at: at(60), seen: [claim("1-old", 20)] }, outcomes: [{ slot: 1, cause: "old", replacement: "r", outcome: "failed", at: new Date(at(50)).toISOString(), reason: "x" }] }));
    expect(recorded.actions).toEqual([expect.not.objectContaining({ missingOutcome: expect.anything() })]);
  });
});

describe("decideRepair at 1000 members", () => {
  it("a decision with 5 empty slots stays linear: best of 5 under 250 ms on a loaded machine (a quadratic one takes seconds)", () => {
    const instances = Array.from({ length: 1000 }, (_, k) => i(`i-${k.toString(16).padStart(17, "0")}`, { slot: k, ...(k % 200 === 7 ? { state: "terminated" as const } : {}) }));
    const v = view({ self: instances[0]!.id, desired: desired(1000), ...listed(instances) });
    const times = Array.from({ length: 5 }, () => {
      const started = performance.now();
      decideRepair(v);
      return performance.now() - started;
    });
    expect(Math.min(...times)).toBeLessThan(250);
    expect(decideRepair(v).census?.empty).toHaveLength(5);
  });
});
