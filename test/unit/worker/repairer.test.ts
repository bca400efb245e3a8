/**
 * The repairer (src/worker/repair/repairer.ts) executing src/repair's decisions, with a small fake
 * world (instances EC2 would list or describe, claims and outcomes as S3 would keep them): a claim
 * another member holds launches nothing, an older rival claim makes a created one back off, the
 * pause stops claims, a duplicate re-reads the holder it would leave the slot to, a holder that
 * never served is re-read before it is terminated, and a retiring member claims nothing.
 */
import { describe, expect, it } from "vitest";
import type { InstanceCheck as Ec2Check, PeerInstance } from "../../../src/aws/ec2-peers.js";
import { silentLogger } from "../../../src/core/log.js";
import { decideRepair, type ClaimBody, type ClaimSeen, type RepairOutcome, type RetireSelfReason } from "../../../src/repair/index.js";
import type { DesiredView } from "../../../src/worker/repair/desired-reader.js";
import type { RepairClaim } from "../../../src/worker/repair/repair-launches.js";
import type { ClaimResult } from "../../../src/worker/repair/repair-store.js";
import { Repairer } from "../../../src/worker/repair/repairer.js";
import { FakeClock } from "../../support/fake-clock.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const MIN = 60_000;

function worker(id: string, slot: number | undefined, over: Partial<PeerInstance> & { tags?: Record<string, string> } = {}): PeerInstance {
  return {
    instanceId: id,
    state: "running",
    availabilityZone: "us-east-1a",
    instanceType: "g5.xlarge",
    launchTime: new Date(T0 - 60 * MIN),
    ...over,
    tags: { SynktiCluster: "demo", SynktiRole: "worker", SynktiState: "serving", SynktiServedAt: new Date(T0 - 50 * MIN).toISOString(), ...(slot !== undefined ? { SynktiSlot: String(slot) } : {}), ...over.tags },
  };
}

/** Member i-a (slot 0) lists i-dead (slot 1) terminated, and evaluates. */
async function afterDeathInSlot1(t: ReturnType<typeof setup>): Promise<void> {
  t.repairer.onListing([worker("i-a", 0), worker("i-dead", 1, { state: "terminated" })], T0);
  await t.repairer.poke();
}

function setup(self: string, desired: number, options: { claims?: ClaimSeen[]; taken?: boolean; rival?: ClaimSeen; outcomes?: RepairOutcome[]; describe?: Record<string, Ec2Check>; unprepared?: boolean; reread?: DesiredView; lostAnswer?: boolean } = {}) {
  const clock = new FakeClock(T0);
  const controller = new AbortController();
  const launched: RepairClaim[] = [];
  const claimed: ClaimBody[] = [];
  const retired: RetireSelfReason[] = [];
  const terminated: string[] = [];
  const written: RepairOutcome[] = [];
  const claims = [...(options.claims ?? [])];
  let view: DesiredView = { kind: "known", desired: { workers: desired, setAt: new Date(T0 - 120 * MIN).toISOString() }, readAt: T0 };
  const rereads: number[] = [];
  const repairer = new Repairer(
    {
      desired: {
        get current() {
          return view;
        },
        // What S3 holds now: the same document, unless the test changed it since the last poll.
        async readOnce() {
          rereads.push(clock.now());
          if (options.reread) view = options.reread;
          return view;
        },
      },
      store: {
        async claimsOf(slot) {
          return claims.filter((c) => c.slot === slot);
        },
        async claim(body): Promise<ClaimResult> {
          claimed.push(body);
          const name = `${body.slot}-${body.cause}`;
          if (options.lostAnswer && claims.some((c) => c.name === name)) return { kind: "own" }; // 412, and its body names us
          if (options.lostAnswer) {
            // S3 created it, but the answer never came (a timed-out call is not retried by the SDK).
            claims.push({ name, slot: body.slot, cause: body.cause, base: body.cause, attempt: body.attempt, at: clock.now() });
            throw new Error("PutObject: no answer within 15000 ms");
          }
          if (options.taken) {
            claims.push({ name: `${body.slot}-${body.cause}`, slot: body.slot, cause: body.cause, base: body.cause, attempt: body.attempt, at: clock.now() - 1000 });
            return { kind: "taken", claimer: "i-other" };
          }
          if (options.rival) claims.push(options.rival); // landed between our listing and our write
          claims.push({ name: `${body.slot}-${body.cause}`, slot: body.slot, cause: body.cause, base: body.cause, attempt: body.attempt, at: clock.now() });
          return { kind: "created" };
        },
        async recentOutcomes() {
          return options.outcomes ?? [];
        },
        async writeOutcome(outcome) {
          written.push(outcome);
          return "created" as const;
        },
      },
      launches: {
        has: (name) => launched.some((l) => l.name === name),
        runningIn: (slot) => launched.some((l) => l.slot === slot),
        async prepare(claim) {
          if (options.unprepared) throw new Error("IMDS user-data unreadable");
          return async () => void launched.push(claim);
        },
        status: () => [],
      },
      ec2: {
        async describeOne(id) {
          return options.describe?.[id] ?? "gone";
        },
      },
      clock,
      log: silentLogger,
      retireSelf: (reason) => retired.push(reason),
      async terminateOther(id) {
        terminated.push(id);
      },
    },
    self,
    controller.signal,
  );
  return { clock, repairer, launched, claimed, retired, terminated, written, claims, controller, rereads };
}

describe("repairer", () => {
  it("claims the empty slot of a dead member (its watcher, first in line) and launches through the spawn path; the next listing launches nothing more", async () => {
    const t = setup("i-a", 2);
    const listed = [worker("i-a", 0), worker("i-dead", 1, { state: "terminated" })];
    t.repairer.onListing(listed, T0);
    await t.repairer.poke();
    expect(t.claimed).toEqual([expect.objectContaining({ slot: 1, cause: "i-dead", claimer: "i-a", attempt: 1 })]);
    expect(t.launched).toEqual([expect.objectContaining({ name: "1-i-dead", slot: 1, doomed: expect.objectContaining({ instanceId: "i-dead", slot: 1, launchId: "1-i-dead" }) })]);
    t.repairer.onListing(listed, T0 + 1000);
    await t.repairer.poke();
    expect(t.launched).toHaveLength(1);
    expect(t.repairer.status()).toMatchObject({ active: true, desired: 2, slot: 0, paused: false });
  });

  it("a scale-down's surplus retired before this member's poll read the lower size: the read before the claim sees it, and its slot is not refilled", async () => {
    const setAt = new Date(T0 - MIN).toISOString();
    const t = setup("i-a", 3, { reread: { kind: "known", desired: { workers: 2, setAt }, readAt: T0 } });
    // Slot 2's holder read desired 2 and retired itself; this member still decides with 3.
    const listed = [worker("i-a", 0), worker("i-b", 1), worker("i-surplus", 2, { tags: { SynktiState: "retiring" } })];
    t.repairer.onListing(listed, T0);
    await t.repairer.poke();
    await t.repairer.poke(); // the evaluation it asked for, with the size it just read
    expect(t.rereads.length).toBeGreaterThanOrEqual(1);
    expect(t.claimed).toEqual([]);
    expect(t.launched).toEqual([]);
    expect(t.repairer.status()).toMatchObject({ desired: 2 });
  });

  it("its own launch into the slot is not listed yet: the next decision claims no second attempt for that slot", async () => {
    const t = setup("i-a", 2);
    // Died right after its launch: its launch time is within the S3/EC2 clock tolerance of the claim.
    const listed = [worker("i-a", 0), worker("i-dead", 1, { state: "terminated", launchTime: new Date(T0 - 1000) })];
    t.repairer.onListing(listed, T0);
    await t.repairer.poke();
    expect(t.launched).toHaveLength(1);
    t.repairer.onListing(listed, T0 + 100);
    await t.repairer.poke();
    await t.clock.advance(60_000);
    expect(t.claimed.map((c) => c.cause)).toEqual(["i-dead"]);
    expect(t.launched).toHaveLength(1);
  });

  it("the slot's last replacement died before serving and its claimant never said so: the failure is recorded before the next claim", async () => {
    const claim: ClaimSeen = { name: "1-i-dead", slot: 1, cause: "i-dead", base: "i-dead", attempt: 1, at: T0 - 40 * MIN };
    const failedReplacement = worker("i-r1", 1, { state: "terminated", launchTime: new Date(T0 - 39 * MIN), tags: { SynktiReplaces: "1-i-dead", SynktiState: "booting" } });
    delete (failedReplacement.tags as Record<string, string>).SynktiServedAt;
    const t = setup("i-a", 2, { claims: [claim] });
    t.repairer.onListing([worker("i-a", 0), worker("i-dead", 1, { state: "terminated", launchTime: new Date(T0 - 90 * MIN) }), failedReplacement], T0);
    await t.repairer.poke();
    expect(t.written).toEqual([expect.objectContaining({ slot: 1, cause: "i-dead", replacement: "i-r1", outcome: "failed" })]);
    expect(t.claimed).toEqual([expect.objectContaining({ slot: 1, cause: "i-r1" })]);
    expect(t.launched).toHaveLength(1);
  });

  it("a member later in the order claims at its turn without a new listing (its own timer)", async () => {
    const members = Array.from({ length: 6 }, (_, n) => worker(`i-m${n}`, n));
    const dead = worker("i-dead", 6, { state: "terminated" });
    const listed = [...members, dead];
    const asSeen = listed.map((i) => ({ id: i.instanceId, state: i.state!, launchedAt: i.launchTime!.getTime(), tags: i.tags }));
    // A member whose turn is not first: decideRepair asks it to wait.
    const self = members.find((m) => {
      const d = decideRepair({ self: m.instanceId, now: T0, desired: { workers: 7, setAt: new Date(T0 - 120 * MIN).toISOString() }, listing: { at: T0, instances: asSeen }, claims: { at: T0, seen: [] }, outcomes: [], noticed: {} });
      return d.actions.length === 0 && d.wakeAt !== undefined;
    })!;
    const t = setup(self.instanceId, 7);
    t.repairer.onListing(listed, T0);
    await t.repairer.poke();
    expect(t.claimed).toEqual([]);
    await t.clock.advance(45_000); // at most 3 graces
    expect(t.claimed).toEqual([expect.objectContaining({ slot: 6, cause: "i-dead", claimer: self.instanceId })]);
    expect(t.launched).toHaveLength(1);
  });

  it("the replacement's request cannot be read: nothing is claimed (no claim holds the slot for 10 minutes for nothing)", async () => {
    const t = setup("i-a", 2, { unprepared: true });
    await afterDeathInSlot1(t);
    expect(t.claimed).toEqual([]);
    expect(t.launched).toEqual([]);
  });

  it("a claim another member holds (412): no launch", async () => {
    const t = setup("i-a", 2, { taken: true });
    await afterDeathInSlot1(t);
    expect(t.claimed).toHaveLength(1);
    expect(t.launched).toEqual([]);
  });

  it("a claim S3 created but whose answer was lost: asked again at once, it is this member's own and it launches (the slot is not held 10 minutes for nothing)", async () => {
    const t = setup("i-a", 2, { lostAnswer: true });
    await afterDeathInSlot1(t);
    expect(t.claimed).toHaveLength(2);
    expect(t.launched).toEqual([expect.objectContaining({ name: "1-i-dead" })]);
  });

  it("a created claim backs off when an older claim on the slot, named from another view, came first", async () => {
    // Another member named the slot by the generation (it never saw i-dead): its claim is older than ours.
    const rival: ClaimSeen = { name: "1-d123", slot: 1, cause: "d123", base: "d123", attempt: 1, at: T0 };
    const t = setup("i-a", 2, { rival });
    t.repairer.onListing([worker("i-a", 0), worker("i-dead", 1, { state: "terminated" })], T0 - 1000);
    await t.repairer.poke();
    expect(t.claimed).toHaveLength(1); // ours was created...
    expect(t.launched).toEqual([]); // ...and backs off: the older one launches
  });

  it("paused (the last 3 repairs after setAt failed): no claim, and /status says so", async () => {
    const failed = (n: number): RepairOutcome => ({ slot: 1, cause: `i-r${n}`, replacement: `i-r${n + 1}`, outcome: "failed", at: new Date(T0 - (10 - n) * MIN).toISOString(), reason: "never served" });
    const t = setup("i-a", 2, { outcomes: [failed(1), failed(2), failed(3)] });
    await afterDeathInSlot1(t);
    expect(t.claimed).toEqual([]);
    expect(t.repairer.status()).toMatchObject({ paused: true });
  });

  it("a duplicate retires itself only while the holder it leaves the slot to is still alive", async () => {
    const keeper = worker("i-a", 0, { launchTime: new Date(T0 - 60 * MIN) });
    const later = worker("i-b", 0, { launchTime: new Date(T0 - 10 * MIN) });
    const gone = setup("i-b", 1);
    gone.repairer.onListing([keeper, later], T0);
    await gone.repairer.poke();
    expect(gone.retired).toEqual([]); // EC2 no longer knows i-a: this one stays

    const alive = setup("i-b", 1, { describe: { "i-a": keeper } });
    alive.repairer.onListing([keeper, later], T0);
    await alive.repairer.poke();
    expect(alive.retired).toEqual(["duplicate"]);
    // Retiring, it claims nothing more, even when a slot empties.
    alive.repairer.onListing([keeper, later, worker("i-dead", 1, { state: "terminated" })], T0 + 1000);
    await alive.repairer.poke();
    expect(alive.claimed).toEqual([]);
  });

  it("a surplus worker (slot >= desired) retires itself", async () => {
    const t = setup("i-b", 1);
    t.repairer.onListing([worker("i-a", 0), worker("i-b", 1)], T0);
    await t.repairer.poke();
    expect(t.retired).toEqual(["surplus"]);
  });

  it("a holder without SynktiServedAt 30 minutes after launch is terminated, unless EC2 now shows it served", async () => {
    const stuck = worker("i-stuck", 1, { launchTime: new Date(T0 - 40 * MIN), tags: { SynktiState: "booting", SynktiServedAt: "" } });
    delete (stuck.tags as Record<string, string>).SynktiServedAt;
    const served = setup("i-a", 2, { describe: { "i-stuck": { ...stuck, tags: { ...stuck.tags, SynktiServedAt: new Date(T0).toISOString() } } } });
    served.repairer.onListing([worker("i-a", 0), stuck], T0);
    await served.repairer.poke();
    await served.clock.advance(60_000); // every repairer's turn has come
    expect(served.terminated).toEqual([]);

    const t = setup("i-a", 2, { describe: { "i-stuck": stuck } });
    t.repairer.onListing([worker("i-a", 0), stuck], T0);
    await t.repairer.poke();
    await t.clock.advance(60_000);
    expect(t.terminated).toEqual(["i-stuck"]);
  });
});
