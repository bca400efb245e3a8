/**
 * The worker's repair parts on the fake clock: the desired-size reader (every 15 s, conditional on
 * the ETag, bounded, the last good view kept), the watch (an EC2 check per failed ask of a watched
 * member, at most once per 30 s per target while alive), and a claimed repair's launch through the
 * failover's runner (its own state file: a restarted agent resumes instead of launching again; the
 * outcome record once the replacement served or failed).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PeerInstance } from "../../../src/aws/ec2-peers.js";
import type { ConditionalObjects, ConditionalRead } from "../../../src/aws/s3-conditional.js";
import { silentLogger } from "../../../src/core/log.js";
import type { Doomed, FailoverSettings } from "../../../src/failover/types.js";
import type { FailoverPorts } from "../../../src/failover/ports.js";
import type { RepairOutcome, SeenInstance } from "../../../src/repair/index.js";
import type { WorkerFailoverHooks } from "../../../src/worker/failover/ports.js";
import type { PeerStatus } from "../../../src/cluster/status-document.js";
import { DEFAULT_DISCOVERY_BUDGET } from "../../../src/worker/discovery/budget.js";
import { Discovery } from "../../../src/worker/discovery/discovery.js";
import { DESIRED_POLL_MS, DesiredReader, slotNotWanted } from "../../../src/worker/repair/desired-reader.js";
import { RepairLaunches } from "../../../src/worker/repair/repair-launches.js";
import { Watch } from "../../../src/worker/repair/watch.js";
import { FakeClock } from "../../support/fake-clock.js";
import { captureLogs } from "../../support/log-capture.js";
import { FakeWorld, settings } from "../failover/fake-ports.js";

/** One S3 object with an ETag that changes on each write, read the way S3 answers conditional GETs. */
function fakeDocument() {
  const doc = { text: undefined as string | undefined, version: 0, reads: [] as Array<string | undefined>, failing: false };
  const objects: Pick<ConditionalObjects, "readIfChanged"> = {
    async readIfChanged(_bucket, _key, { etag, maxBytes }): Promise<ConditionalRead> {
      doc.reads.push(etag);
      if (doc.failing) throw new Error("SlowDown");
      if (doc.text === undefined) return { kind: "absent" };
      const current = `"v${doc.version}"`;
      if (etag === current) return { kind: "unchanged" };
      return { kind: "changed", text: doc.text.slice(0, maxBytes + 1), etag: current, size: doc.text.length };
    },
  };
  const write = (text: string | undefined) => {
    doc.text = text;
    doc.version += 1;
  };
  return { doc, objects, write };
}

describe("desired-size reader", () => {
  it("reads at once and every 15 s, conditional on the last ETag; a change is seen at the next read", async () => {
    const clock = new FakeClock();
    const { doc, objects, write } = fakeDocument();
    write('{"workers":3,"setAt":"2026-01-01T00:00:00Z"}');
    const changes: string[] = [];
    const reader = new DesiredReader({ objects, clock, log: silentLogger, onChange: (v) => changes.push(v.kind === "known" ? String(v.desired.workers) : v.kind) }, { bucket: "b", key: "cluster/desired.json" });
    const stop = new AbortController();
    const running = reader.run(stop.signal);
    await clock.advance(0);
    expect(reader.current).toMatchObject({ kind: "known", desired: { workers: 3 } });
    await clock.advance(DESIRED_POLL_MS * 2);
    expect(doc.reads).toEqual([undefined, '"v1"', '"v1"']); // the ETag is sent: S3 answers 304, no body
    write('{"workers":2,"setAt":"2026-01-02T00:00:00Z"}');
    await clock.advance(DESIRED_POLL_MS - 1);
    expect(reader.current).toMatchObject({ desired: { workers: 3 } });
    await clock.advance(1);
    expect(reader.current).toMatchObject({ desired: { workers: 2 } });
    expect(changes).toEqual(["3", "2"]);
    stop.abort();
    await running;
  });

  it("absent: repair inactive, said once; a bad or oversized document keeps the last view and is reported once; a failing read too", async () => {
    const clock = new FakeClock();
    const { doc, objects, write } = fakeDocument();
    const { log, lines } = captureLogs("info");
    const reader = new DesiredReader({ objects, clock, log }, { bucket: "b", key: "cluster/desired.json" });
    for (let i = 0; i < 3; i++) await reader.readOnce();
    expect(reader.current).toEqual({ kind: "absent" });
    expect(lines.filter((l) => /repair is inactive/.test(l.msg))).toHaveLength(1);

    write('{"workers":2,"setAt":"2026-01-01T00:00:00Z"}');
    await reader.readOnce();
    write('{"workers":30000000,"setAt":"2100-01-01T00:00:00Z"}');
    for (let i = 0; i < 3; i++) await reader.readOnce();
    write(`{"workers":1,"setAt":"2026-01-01T00:00:00Z","pad":"${"x".repeat(10_000)}"}`);
    for (let i = 0; i < 3; i++) await reader.readOnce();
    expect(reader.current).toMatchObject({ kind: "known", desired: { workers: 2 } });
    expect(lines.filter((l) => /is not a desired size/.test(l.msg))).toHaveLength(2);
    expect(lines.find((l) => /larger than 4096 bytes \(10/.test(l.msg))).toBeDefined();

    doc.failing = true;
    for (let i = 0; i < 3; i++) await reader.readOnce();
    expect(reader.current).toMatchObject({ kind: "known", desired: { workers: 2 } });
    expect(lines.filter((l) => /could not be read/.test(l.msg))).toHaveLength(1);
  });
});

describe("the desired size's word on a launch", () => {
  it("a repair's launch reads the document again and goes ahead only while the slot is below the size; the failover's check uses the last view", async () => {
    const { objects, write } = fakeDocument();
    write('{"workers":3,"setAt":"2026-01-01T00:00:00Z"}');
    const reader = new DesiredReader({ objects, clock: new FakeClock(), log: silentLogger }, { bucket: "b", key: "cluster/desired.json" });
    expect(await reader.launchRefusal(2)).toBeUndefined();
    write('{"workers":2,"setAt":"2026-01-01T00:05:00Z"}');
    expect(slotNotWanted(reader.current, 2)).toBeUndefined(); // not read yet
    expect(await reader.launchRefusal(2)).toEqual({ refuse: "the desired size is now 2 (set 2026-01-01T00:05:00Z by synkti down or a lower --workers): slot 2 is no longer wanted" });
    expect(await reader.launchRefusal(1)).toBeUndefined();
    expect(slotNotWanted(reader.current, 2)).toMatch(/slot 2 is no longer wanted/);
    write(undefined);
    expect(await reader.launchRefusal(0)).toEqual({ refuse: expect.stringContaining("repair is off") });
    expect(slotNotWanted({ kind: "absent" }, 5)).toBeUndefined(); // an older cluster: the failover goes on as before
  });
});

describe("discovery's side of repair", () => {
  const instance = (id: string, state: PeerInstance["state"]): PeerInstance => ({ instanceId: id, state, availabilityZone: "us-east-1a", instanceType: "g5.xlarge", launchTime: new Date(0), tags: { SynktiEndpoint: `127.1.1.1:${id.length}` } });

  it("one listing of every state (one call) feeds repair; membership keeps only the running; watched members are asked every round besides the rotation", async () => {
    const clock = new FakeClock();
    const listed = [instance("i-self", "running"), instance("i-a", "running"), instance("i-b", "running"), instance("i-w", "running"), instance("i-p", "pending"), instance("i-dead", "terminated")];
    const calls: Array<readonly string[] | undefined> = [];
    const ec2 = {
      listRunning: async () => ({ instances: listed.filter((i) => i.state === "running"), calls: 1 }),
      list: async (_tags: Record<string, string>, states: readonly string[] | undefined) => (calls.push(states), { instances: listed, calls: 1 }),
    };
    const seenByRepair: string[][] = [];
    const rounds: string[][] = [];
    const asked: string[] = [];
    const discovery = new Discovery(
      {
        ec2,
        clock,
        log: silentLogger,
        random: () => 0.5,
        askPeer: async (_endpoint, expect): Promise<PeerStatus> => {
          asked.push(expect.instanceId);
          if (expect.instanceId === "i-w") throw new Error("no answer");
          return { role: "worker", instanceId: expect.instanceId, modelServer: { state: "healthy" }, peers: [] };
        },
        onListing: (instances) => seenByRepair.push(instances.map((i) => `${i.instanceId}:${i.state}`)),
        watched: () => [{ instanceId: "i-w", endpoint: "127.1.1.1:3" }],
        onRound: (round) => rounds.push(round.map((r) => `${r.instanceId}:${r.answered}`)),
      },
      { project: "demo", self: "i-self", budget: DEFAULT_DISCOVERY_BUDGET, peerRoundMs: 5000, fanout: 1 },
    );
    expect(await discovery.listOnce()).toBe(true);
    expect(calls).toEqual([undefined]); // every state, in the one call
    expect(seenByRepair).toEqual([["i-self:running", "i-a:running", "i-b:running", "i-w:running", "i-p:pending", "i-dead:terminated"]]);
    expect(discovery.membership.size()).toBe(4);
    expect(discovery.stats.describeCalls).toBe(1);
    for (let n = 0; n < 3; n++) await discovery.askRound();
    // Fanout 1: the rotation asks one peer a round; the watched one is asked every round on top.
    expect(asked.filter((id) => id === "i-w")).toHaveLength(3);
    expect(asked.filter((id) => id !== "i-w")).toEqual(["i-a", "i-b", "i-a"]);
    expect(rounds.every((r) => r[0] === "i-w:false")).toBe(true);
  });
});

describe("watch", () => {
  const seen = (id: string, endpoint?: string): SeenInstance => ({ id, state: "running", launchedAt: 0, tags: endpoint ? { SynktiEndpoint: endpoint } : {} });

  function setup(states: Record<string, PeerInstance["state"] | "gone"> = {}) {
    const clock = new FakeClock();
    const calls: string[][] = [];
    const checks: Array<{ id: string; state: string }> = [];
    const watch = new Watch(
      {
        ec2: {
          async describeIds(ids) {
            calls.push([...ids]);
            return new Map(ids.map((id) => {
              const state = states[id] ?? "running";
              return [id, state === "gone" ? ("gone" as const) : { instanceId: id, state, availabilityZone: undefined, instanceType: undefined, launchTime: undefined, tags: {} }];
            }));
          },
        },
        clock,
        log: silentLogger,
        onCheck: (c) => checks.push({ id: c.id, state: c.state }),
      },
      "i-self",
    );
    // 8 members: this one watches 3 of them.
    watch.onListing(["i-self", ...Array.from({ length: 7 }, (_, n) => `i-${n}`)].map((id) => seen(id, `127.1.1.1:${id.length}`)));
    return { clock, calls, checks, watch };
  }
  const round = (t: ReturnType<typeof setup>, answers: Record<string, boolean>) => t.watch.onRound(Object.entries(answers).map(([instanceId, answered]) => ({ instanceId, answered })), t.clock.now());

  it("watches 3 members; one that stops answering is checked at once, then (EC2 says alive) only every 30 s, however many rounds fail", async () => {
    const t = setup();
    expect(t.watch.targets).toHaveLength(3);
    expect(t.watch.watched().map((w) => w.instanceId)).toEqual(t.watch.targets);
    const [target, other] = t.watch.targets;
    const unwatched = ["i-0", "i-1", "i-2", "i-3", "i-4", "i-5", "i-6"].find((id) => !t.watch.targets.includes(id))!;
    // An ask round every 5 s for two minutes, the target and an unwatched member never answering: a partition.
    for (let n = 0; n < 24; n++) {
      round(t, { [target!]: false, [other!]: true, [unwatched]: false });
      await t.clock.advance(5000);
    }
    expect(t.calls).toEqual([[target], [target], [target], [target]]); // at 0, 30, 60, 90 s
    expect(t.checks.every((c) => c.state === "running")).toBe(true);
  });

  it("the checks of one round are one call; a member EC2 calls terminated or does not know is reported dead", async () => {
    const probe = setup();
    const [first, second] = probe.watch.targets;
    const t = setup({ [first!]: "terminated", [second!]: "gone" });
    round(t, { [first!]: false, [second!]: false });
    await t.clock.advance(0);
    expect(t.calls).toEqual([[first, second]]);
    expect(t.checks).toEqual([
      { id: first, state: "terminated" },
      { id: second, state: "unknown" },
    ]);
  });
});

/**
 * The state file is real disk I/O: let it land (real time), then the steps it unblocked run (fake
 * time); at least `rounds` times, and until `done` when given.
 */
async function io(clock: FakeClock, done: () => boolean = () => true, rounds = 5): Promise<void> {
  for (let i = 0; i < 200 && (i < rounds || !done()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 3));
    await clock.advance(0);
  }
}

/** Moves fake time in steps, letting the state file's writes land between them. */
async function advance(clock: FakeClock, ms: number, stepMs = 1000): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    await io(clock);
    await clock.advance(Math.min(stepMs, ms - done));
  }
  await io(clock);
}

describe("a claimed repair's launch", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** The agent's failover as repair uses it: its ports (here the fake world) with the caller's hooks. */
  function setup(stateDir = mkdtempSync(path.join(tmpdir(), "synkti-repair-unit-")), clock = new FakeClock(), world = new FakeWorld(clock), beforeLaunch?: (slot: number) => Promise<{ refuse: string } | undefined>) {
    dirs.push(stateDir);
    const hooksUsed: WorkerFailoverHooks[] = [];
    const outcomes: RepairOutcome[] = [];
    const failover = {
      portsFor(input: { doomedId: string; hooks: WorkerFailoverHooks; beforeLaunch?: (signal: AbortSignal) => Promise<{ refuse: string } | undefined> }): FailoverPorts {
        hooksUsed.push(input.hooks);
        return {
          ...Object.fromEntries((["observePools", "findReplacement", "launch", "replacementStatus", "terminateReplacement"] as const).map((k) => [k, world[k].bind(world)])),
          // As the worker's ports do (src/worker/failover/ports.ts): asked right before RunInstances.
          launch: async (request, signal) => {
            const refused = await input.beforeLaunch?.(signal);
            return refused ? { failure: "refused" as const, message: refused.refuse } : world.launch(request, signal);
          },
          drain: input.hooks.drain,
          stopModelServer: input.hooks.stopModelServer,
          terminateSelf: input.hooks.terminateSelf,
        } as FailoverPorts;
      },
      async settingsFor(doomed: Doomed, overrides: Partial<FailoverSettings>): Promise<FailoverSettings> {
        return { ...settings(), ...overrides, doomed };
      },
    };
    const launches = new RepairLaunches(
      { failover, store: { writeOutcome: async (o) => (outcomes.push(o), "created" as const) }, clock, log: silentLogger, instanceType: "g5.xlarge", ...(beforeLaunch ? { beforeLaunch } : {}) },
      { stateDir, healthBudgetMs: 30 * 60_000 },
    );
    return { clock, world, launches, outcomes, stateDir, hooksUsed };
  }
  const claim = { slot: 1, cause: "i-dead", name: "1-i-dead", doomed: { slot: 1, launchId: "1-i-dead", instanceId: "i-dead", instanceType: "g5.xlarge", zone: "us-east-1a" } };

  it("launches one replacement carrying the dead member's slot, never in its pool; the repairer drains, stops and ends nothing of its own; served -> outcome record", async () => {
    const t = setup();
    await t.launches.launch(claim);
    await io(t.clock, () => t.world.launches.length > 0);
    expect(t.world.launches).toHaveLength(1);
    const request = t.world.launches[0]!.request;
    expect(request.tags).toEqual({ SynktiReplaces: "i-dead", SynktiSlot: "1" });
    expect(request.launchId).toBe("r-i-dead");
    expect(request.candidate.zone).not.toBe("us-east-1a");
    expect(readdirSync(t.stateDir).filter((f) => f.endsWith(".json"))).toEqual(["repair-1-i-dead.json"]);
    await advance(t.clock, 60_000, 5000); // the fake replacement serves after 30 s
    expect(t.world.drains).toEqual([]);
    expect([t.world.stops, t.world.selfTerminations]).toEqual([[], []]);
    expect(t.outcomes).toEqual([expect.objectContaining({ slot: 1, cause: "i-dead", replacement: "i-r1", outcome: "served" })]);
    expect(t.launches.status()).toEqual([expect.objectContaining({ name: "1-i-dead", phase: "served", replacement: "i-r1" })]);
  });

  it("an agent restarted while the launch's answer was lost resumes from its state file: the replacement is found, not launched again", async () => {
    const clock = new FakeClock();
    const world = new FakeWorld(clock);
    world.script.set("g5.xlarge/us-east-1b", ["lost"]);
    const first = setup(undefined, clock, world);
    await first.launches.launch(claim);
    await io(clock, () => world.launches.length > 0);
    expect(world.launches).toHaveLength(1);
    first.launches.close(); // the agent dies mid-call

    const second = setup(first.stateDir, clock, world);
    await second.launches.resume();
    await advance(clock, 60_000, 5000);
    expect(world.launches).toHaveLength(1);
    expect(second.outcomes).toEqual([expect.objectContaining({ cause: "i-dead", replacement: "i-r1", outcome: "served" })]);
  });

  it("the desired size no longer wants the slot by the time of the launch (synkti down wrote 0 after the claim): no RunInstances, no outcome", async () => {
    const { objects, write } = fakeDocument();
    write('{"workers":2,"setAt":"2026-01-01T00:00:00Z"}');
    const reader = new DesiredReader({ objects, clock: new FakeClock(), log: silentLogger }, { bucket: "b", key: "cluster/desired.json" });
    await reader.readOnce(); // the view the claim was made on: slot 1 of 2
    write('{"workers":0,"setAt":"2026-01-01T00:05:00Z"}'); // synkti down, before the repairer's next poll
    const asked: number[] = [];
    const t = setup(undefined, undefined, undefined, (slot) => (asked.push(slot), reader.launchRefusal(slot)));
    await t.launches.launch(claim);
    await advance(t.clock, 60_000, 5000);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set([1]));
    expect(t.world.launches).toEqual([]);
    expect(t.outcomes).toEqual([]);
    expect(t.launches.status()).toEqual([expect.objectContaining({ name: "1-i-dead", phase: "no-launch", replacement: null, detail: expect.stringMatching(/every pool failed \(.*refused/) })]);
  });

  it("a replacement that never serves within NEVER_SERVED_MS is terminated and the repair's outcome is failed", async () => {
    const t = setup();
    t.world.defaultServeAfterMs = Infinity;
    await t.launches.launch(claim);
    await io(t.clock, () => t.world.launches.length > 0);
    await advance(t.clock, 31 * 60_000, 60_000);
    // Real file writes (the state file) between fake-time steps can leave a poll registered a step
    // late on a loaded machine (seen once in CI): a few more fake minutes, never the next hour.
    for (let extra = 0; extra < 5 && t.world.terminated.length === 0; extra++) await advance(t.clock, 60_000, 10_000);
    expect(t.world.terminated.map((x) => x.instanceId)).toEqual(["i-r1"]);
    expect(t.outcomes).toEqual([expect.objectContaining({ slot: 1, cause: "i-dead", replacement: "i-r1", outcome: "failed" })]);
    expect(t.outcomes[0]!.reason).toMatch(/did not serve/);
  });
});
