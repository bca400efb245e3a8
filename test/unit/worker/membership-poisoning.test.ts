import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { PeerInstance, PeerListing } from "../../../src/aws/ec2-peers.js";
import { askPeerStatus } from "../../../src/cluster/peer-client.js";
import { MAX_PEERS_PER_ANSWER, MAX_STATUS_BYTES, type PeerEntry } from "../../../src/cluster/status-document.js";
import { silentLogger } from "../../../src/core/log.js";
import { DEFAULT_DISCOVERY_BUDGET, listingIntervalMs } from "../../../src/worker/discovery/budget.js";
import { Discovery } from "../../../src/worker/discovery/discovery.js";
import { MAX_UNCONFIRMED, Membership } from "../../../src/worker/discovery/membership.js";
import { buildStatusDocument } from "../../../src/worker/status/build-document.js";
import { FakeClock } from "../../support/fake-clock.js";

/**
 * Issue 12 item 7: one oversized or forged /status answer (30,000 made-up members, a seenAt in the
 * year 2100) used to inflate every worker's view for hours and stretch its listings to the cap.
 * Here one peer of a 3-member cluster forges its answers, through the real HTTP client and parser;
 * the worker's size and listing interval must stay what EC2 says.
 */
const PROJECT = "demo";
const SELF = "i-0000000000000self";
const FORGER = "i-00000000000forger";
const HONEST = "i-00000000000honest";

let server: Server | undefined;
afterEach(async () => {
  if (!server) return;
  const closing = server;
  server = undefined;
  closing.closeAllConnections();
  await new Promise((resolve) => closing.close(resolve));
});

/** The forging peer: answers /status as FORGER with whatever `peers` the test sets. */
async function forger(): Promise<{ endpoint: string; answer: (peers: unknown[]) => void }> {
  let body = "";
  server = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer: (peers) => {
      body = JSON.stringify({ role: "worker", project: PROJECT, instanceId: FORGER, modelServer: { state: "healthy" }, peers });
    },
  };
}

const madeUp = (n: number, seenAt: string) =>
  Array.from({ length: n }, (_, i) => ({ instanceId: `i-fake${String(i).padStart(13, "0")}`, endpoint: `127.0.0.1:${1024 + (i % 60000)}`, availabilityZone: "us-east-1a", seenAt }));

function cluster(forgerEndpoint: string) {
  const instances: PeerInstance[] = [
    { instanceId: SELF, availabilityZone: "us-east-1a", instanceType: "g5.xlarge", launchTime: undefined, tags: { SynktiEndpoint: "127.0.0.2:1" } },
    { instanceId: FORGER, availabilityZone: "us-east-1a", instanceType: "g5.xlarge", launchTime: undefined, tags: { SynktiEndpoint: forgerEndpoint } },
    { instanceId: HONEST, availabilityZone: "us-east-1b", instanceType: "g5.xlarge", launchTime: undefined, tags: {} },
  ];
  const ec2 = {
    calls: 0,
    async listRunning(): Promise<PeerListing> {
      ec2.calls += 1;
      return { instances, calls: 1 };
    },
  };
  const clock = new FakeClock();
  const askPeer = (endpoint: string, expect: { instanceId: string; project: string }, signal: AbortSignal) => askPeerStatus(endpoint, { timeoutMs: 5000, expect, signal });
  const discovery = new Discovery({ ec2, clock, log: silentLogger, random: () => 0.5, askPeer }, { project: PROJECT, self: SELF, budget: DEFAULT_DISCOVERY_BUDGET, peerRoundMs: 5000, fanout: 8 });
  return { ec2, clock, discovery };
}

const EC2_INTERVAL = listingIntervalMs(3, 1); // 10 s: the floor, what 3 listed members give

describe("membership that one peer's answer cannot poison", () => {
  it("30,000 made-up members are refused at the size cap, whatever they say", async () => {
    const peer = await forger();
    peer.answer(madeUp(30_000, new Date(Date.parse("2026-01-01T00:00:00Z")).toISOString()));
    const { clock, discovery } = cluster(peer.endpoint);
    await discovery.listOnce();
    await discovery.askRound();
    expect(discovery.membership.size()).toBe(3);
    expect(discovery.membership.peers().map((p) => [p.instanceId, p.health])).toEqual([
      [FORGER, "unreachable"],
      [HONEST, "unknown"],
    ]);
    await expect(askPeerStatus(peer.endpoint, { timeoutMs: 5000 })).rejects.toThrow(`answer larger than ${MAX_STATUS_BYTES} bytes`);
    expect(clock.now()).toBe(Date.parse("2026-01-01T00:00:00Z"));
  });

  it("made-up members seen 'in 2100' are ignored, and a listed member's seenAt is not dragged into the future", async () => {
    const peer = await forger();
    const year2100 = "2100-01-01T00:00:00.000Z";
    peer.answer([...madeUp(1500, year2100), { instanceId: HONEST, endpoint: null, availabilityZone: "us-east-1b", seenAt: year2100 }]);
    const { discovery } = cluster(peer.endpoint);
    await discovery.listOnce();
    await discovery.askRound();
    expect(discovery.membership.size()).toBe(3);
    const peers = discovery.membership.peers();
    expect(peers.map((p) => [p.instanceId, p.health, p.source])).toEqual([
      [FORGER, "healthy", "ec2"],
      [HONEST, "unknown", "ec2"],
    ]);
    expect(peers.every((p) => !p.seenAt.startsWith("2100"))).toBe(true);
  });

  it("plausible made-up members may be asked but never count: listings stay every 10 s, and the next listing forgets them", async () => {
    const peer = await forger();
    const { ec2, clock, discovery } = cluster(peer.endpoint);
    peer.answer(madeUp(1500, new Date(clock.now() + 1000).toISOString()));
    const controller = new AbortController();
    const listings = discovery.runListings(controller.signal);
    await clock.advance(0); // the join listing
    await discovery.askRound();
    // Kept: a bounded number, unconfirmed; N stays what EC2 showed.
    expect(discovery.membership.peers().filter((p) => p.source === "peer")).toHaveLength(MAX_UNCONFIRMED);
    expect(discovery.membership.size()).toBe(3);
    // The forger keeps answering; a minute of rounds and listings (as many as 3 members make).
    const before = ec2.calls;
    for (let s = 0; s < 60; s += 5) {
      await clock.advance(5000);
      peer.answer(madeUp(1500, new Date(clock.now() + 1000).toISOString()));
      await discovery.askRound();
      expect(discovery.membership.size()).toBe(3);
      expect(discovery.stats.nextListingAt! - clock.now()).toBeLessThanOrEqual(EC2_INTERVAL * 1.2);
    }
    // 3 members sit on the 10 s floor (jitter 0.5 -> exactly 10 s): 6 a minute, not one in 50 minutes.
    expect(ec2.calls - before).toBeGreaterThanOrEqual(5);
    expect(ec2.calls - before).toBeLessThanOrEqual(7);
    // Unconfirmed members get at most a quarter of a round's asks: the listed ones are still asked.
    expect(discovery.membership.toAsk(8).map((p) => p.instanceId)).toContain(FORGER);
    // The forger goes quiet about them: the next listing forgets every one.
    peer.answer([]);
    await clock.advance(EC2_INTERVAL * 1.2);
    expect(discovery.membership.peers().map((p) => p.instanceId)).toEqual([FORGER, HONEST]);
    controller.abort();
    await listings;
  });
});

describe("the bounds themselves", () => {
  it("an unconfirmed member gets a quarter of the asks and is forgotten after one failed ask", () => {
    const m = new Membership(SELF);
    const listed = Array.from({ length: 10 }, (_, i) => ({ instanceId: `i-listed${i}`, availabilityZone: "us-east-1a", instanceType: "g5.xlarge", launchTime: undefined, tags: { SynktiEndpoint: `127.0.0.${i + 2}:8080` } }));
    m.applyListing(listed, 1000);
    m.applyPeerStatus({ role: "worker", instanceId: "i-listed0", modelServer: { state: "healthy" }, peers: madeUp(20, new Date(1500).toISOString()) }, 2000);
    const asked = m.toAsk(8);
    expect(asked).toHaveLength(8);
    expect(asked.filter((p) => p.instanceId.startsWith("i-fake"))).toHaveLength(2);
    m.applyAskFailure("i-fake0000000000000", 2100);
    expect(m.peers().some((p) => p.instanceId === "i-fake0000000000000")).toBe(false);
    // ...and the same stale gossip cannot bring it back (a tombstone), while N never moved.
    m.applyPeerStatus({ role: "worker", instanceId: "i-listed0", modelServer: { state: "healthy" }, peers: madeUp(1, new Date(1500).toISOString()) }, 2200);
    expect(m.peers().some((p) => p.instanceId === "i-fake0000000000000")).toBe(false);
    expect(m.size()).toBe(11);
  });

  it("a worker publishes at most MAX_PEERS_PER_ANSWER peers, and that document, every field at its longest, fits the size peers accept", () => {
    const long = "x".repeat(40);
    const peers: PeerEntry[] = Array.from({ length: MAX_PEERS_PER_ANSWER + 500 }, (_, i) => ({
      instanceId: `i-${String(i).padStart(17, "0")}`,
      endpoint: "255.255.255.255:65535",
      availabilityZone: "ap-southeast-4-akl-1a",
      health: "restarting",
      askedAt: "2026-01-01T00:00:00.000Z",
      seenAt: "2026-01-01T00:00:00.000Z",
      source: "peer",
    }));
    const doc = buildStatusDocument({
      project: long,
      facts: { instanceId: "i-0123456789abcdef0", region: "us-east-1", availabilityZone: "us-east-1a", instanceType: "p4de.24xlarge", localIpv4: "127.0.0.1", imageId: "ami-1" },
      endpoint: "255.255.255.255:65535",
      modelServer: { state: "failed", restarts: 99, since: "2026-01-01T00:00:00.000Z", failure: "y".repeat(4000) },
      inFlight: 1,
      peers,
      clusterSize: MAX_PEERS_PER_ANSWER + 501,
      stats: { listings: 1, describeCalls: 1, lastListingAt: 0, nextListingAt: 0 },
      interruption: {},
      loadBalancer: { targetGroup: long, registered: true, draining: false },
    });
    expect(doc.peers).toHaveLength(MAX_PEERS_PER_ANSWER);
    expect(Buffer.byteLength(JSON.stringify(doc))).toBeLessThan(MAX_STATUS_BYTES * 0.75);
  });
});
