import { describe, expect, it } from "vitest";
import type { PeerInstance, PeerListing } from "../../../src/aws/ec2-peers.js";
import { silentLogger } from "../../../src/core/log.js";
import { DEFAULT_DISCOVERY_BUDGET } from "../../../src/worker/discovery/budget.js";
import { Discovery } from "../../../src/worker/discovery/discovery.js";
import type { PeerStatus } from "../../../src/cluster/status-document.js";
import { FakeClock } from "../../support/fake-clock.js";
import { atLeast, captureLogs } from "../../support/log-capture.js";
import { seededRandom } from "../../support/seeded-random.js";


function fakeEc2(instances: PeerInstance[]) {
  const ec2 = {
    calls: 0,
    fail: undefined as Error | undefined,
    async listRunning(): Promise<PeerListing> {
      const calls = Math.max(1, Math.ceil(instances.length / 1000));
      ec2.calls += calls;
      if (ec2.fail) throw ec2.fail;
      return { instances, calls };
    },
  };
  return ec2;
}

const members = (n: number): PeerInstance[] =>
  Array.from({ length: n }, (_, i) => ({ instanceId: `i-${String(i).padStart(8, "0")}`, availabilityZone: "us-east-1a", instanceType: "g5.xlarge", launchTime: undefined, tags: {} }));
const noPeer = async (): Promise<PeerStatus> => {
  throw new Error("no peers in this test");
};

async function simulate(n: number, minutes: number, options: { seed?: boolean } = {}) {
  const clock = new FakeClock();
  const instances = members(n);
  const ec2 = fakeEc2(instances);
  const random = seededRandom(n);
  const controller = new AbortController();
  const agents = instances.map((i) => new Discovery({ ec2, clock, log: silentLogger, random, askPeer: noPeer }, { project: "demo", self: i.instanceId, budget: DEFAULT_DISCOVERY_BUDGET, peerRoundMs: 5000, fanout: 8 }));
  if (options.seed !== false) for (const a of agents) a.seed(instances, clock.now());
  const loops = agents.map((a) => a.runListings(controller.signal));
  await clock.advance(0);
  const joinCalls = ec2.calls;
  const perMinute: number[] = [];
  for (let m = 0; m < minutes; m++) {
    const before = ec2.calls;
    for (let s = 0; s < 60; s++) await clock.advance(1000);
    perMinute.push(ec2.calls - before);
  }
  controller.abort();
  await Promise.all(loops);
  return { joinCalls, perMinute, agents };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("discovery within the cluster's call budget", () => {
  it.each([10, 100, 1000])("%d members spend about 30 DescribeInstances calls a minute in all", async (n) => {
    const { perMinute, joinCalls } = await simulate(n, n === 1000 ? 120 : 30);
    expect(joinCalls).toBe(0); // seeded: steady state
    const budgetPerMinute = DEFAULT_DISCOVERY_BUDGET.clusterCallsPerSecond * 60;
    expect(mean(perMinute)).toBeGreaterThan(budgetPerMinute * 0.75);
    expect(mean(perMinute)).toBeLessThan(budgetPerMinute * 1.15);
  }, 60_000);

  it("a small cluster sits on the floor: 3 members list every ~10 s each", async () => {
    const { perMinute } = await simulate(3, 10);
    expect(mean(perMinute)).toBeGreaterThan(14);
    expect(mean(perMinute)).toBeLessThan(22);
  });

  it("each member lists once when it joins, then within the budget", async () => {
    const { joinCalls, perMinute, agents } = await simulate(20, 10, { seed: false });
    expect(joinCalls).toBe(20);
    expect(mean(perMinute)).toBeLessThan(36);
    expect(agents[0]!.membership.size()).toBe(20);
  });

  it("throttling doubles the wait; failures never stop the loop", async () => {
    const clock = new FakeClock();
    const ec2 = fakeEc2(members(1));
    const d = new Discovery({ ec2, clock, log: silentLogger, random: () => 0.5, askPeer: noPeer }, { project: "demo", self: "i-00000000", budget: { ...DEFAULT_DISCOVERY_BUDGET, jitter: 0 }, peerRoundMs: 5000, fanout: 8 });
    ec2.fail = Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded" });
    const controller = new AbortController();
    const loop = d.runListings(controller.signal);
    await clock.advance(0);
    expect(ec2.calls).toBe(1); // the join listing, throttled
    await clock.advance(10_000); // not joined yet: retry at the floor...
    expect(ec2.calls).toBe(2);
    await clock.advance(10_000); // ...still at the floor until a listing works
    expect(ec2.calls).toBe(3);
    ec2.fail = undefined;
    await clock.advance(10_000);
    expect(ec2.calls).toBe(4);
    expect(d.stats.listings).toBe(1);
    controller.abort();
    await loop;
  });

  it("learns peers' health and newcomers by asking peers between listings", async () => {
    const clock = new FakeClock();
    const instances = members(3).map((i, n) => ({ ...i, tags: { SynktiEndpoint: `127.0.0.${n + 2}:8080` } }));
    const ec2 = fakeEc2(instances);
    const asked: string[] = [];
    const askPeer = async (endpoint: string): Promise<PeerStatus> => {
      asked.push(endpoint);
      const id = instances.find((i) => i.tags.SynktiEndpoint === endpoint)!.instanceId;
      return { role: "worker", instanceId: id, modelServer: { state: "healthy" }, peers: [{ instanceId: "i-newcomer", endpoint: "127.0.0.9:8080", availabilityZone: "us-east-1c", seenAt: new Date(clock.now() + 1).toISOString() }] };
    };
    const d = new Discovery({ ec2, clock, log: silentLogger, random: () => 0.5, askPeer }, { project: "demo", self: instances[0]!.instanceId, budget: DEFAULT_DISCOVERY_BUDGET, peerRoundMs: 5000, fanout: 8 });
    await d.listOnce();
    await d.askRound();
    expect(asked.sort()).toEqual(["127.0.0.3:8080", "127.0.0.4:8080"]);
    expect(d.membership.peers().map((p) => [p.instanceId, p.health, p.source])).toEqual([
      ["i-00000001", "healthy", "ec2"],
      ["i-00000002", "healthy", "ec2"],
      ["i-newcomer", "unknown", "peer"],
    ]);
    // Gossip may be asked but never counts in N: only a listing that shows the newcomer does.
    expect(d.membership.size()).toBe(3);
    instances.push({ ...members(1)[0]!, instanceId: "i-newcomer", tags: { SynktiEndpoint: "127.0.0.9:8080" } });
    await d.listOnce();
    expect(d.membership.size()).toBe(4);
    expect(d.membership.peers().find((p) => p.instanceId === "i-newcomer")?.source).toBe("ec2");
  });
});

describe("discovery's logs: changes, not every listing", () => {
  it("an hour of a steady cluster logs nothing at info; an hour of failures warns once; a recovery and a new member say so", async () => {
    const clock = new FakeClock();
    const instances = members(3);
    const ec2 = fakeEc2(instances);
    const { log, lines } = captureLogs();
    const d = new Discovery({ ec2, clock, log, random: () => 0.5, askPeer: noPeer }, { project: "demo", self: instances[0]!.instanceId, budget: DEFAULT_DISCOVERY_BUDGET, peerRoundMs: 5000, fanout: 8 });
    const controller = new AbortController();
    const loop = d.runListings(controller.signal);
    await clock.advance(0);
    const hour = async () => {
      for (let s = 0; s < 3600; s += 10) await clock.advance(10_000);
    };
    const joined = atLeast(lines, "info").length; // the join may say the size changed from 1 to 3
    await hour();
    expect(ec2.calls).toBeGreaterThan(300); // it did list, every ~10 s
    expect(atLeast(lines, "info").length).toBe(joined);

    ec2.fail = new Error("connect ETIMEDOUT");
    await hour();
    ec2.fail = undefined;
    await clock.advance(20_000);
    instances.push(members(4)[3]!);
    await clock.advance(20_000);
    expect(atLeast(lines, "info").slice(joined).map((l) => l.msg)).toEqual(["listing the cluster failed; next try at the next turn", "listing the cluster works again", "cluster size changed"]);
    controller.abort();
    await loop;
    expect(d.membership.size()).toBe(4);
  });
});
