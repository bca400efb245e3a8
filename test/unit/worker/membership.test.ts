import { describe, expect, it } from "vitest";
import type { PeerInstance } from "../../../src/aws/ec2-peers.js";
import { DROP_AFTER_FAILURES, Membership } from "../../../src/worker/discovery/membership.js";
import type { PeerStatus } from "../../../src/cluster/status-document.js";

const instance = (id: string, endpoint?: string): PeerInstance => ({
  instanceId: id,
  availabilityZone: "us-east-1a",
  instanceType: "g5.xlarge",
  launchTime: undefined,
  tags: endpoint ? { SynktiEndpoint: endpoint } : {},
});
const status = (id: string, state: string, peers: Array<{ id: string; seenAt: number; endpoint?: string }> = []): PeerStatus => ({
  role: "worker",
  instanceId: id,
  modelServer: { state },
  peers: peers.map((p) => ({ instanceId: p.id, endpoint: p.endpoint ?? null, availabilityZone: "us-east-1b", seenAt: new Date(p.seenAt).toISOString() })),
});

describe("membership view", () => {
  it("a listing is the authority: it replaces the view, keeping what peers said about survivors", () => {
    const m = new Membership("i-self");
    m.applyListing([instance("i-self", "127.0.0.2:8080"), instance("i-a", "127.0.0.3:8080"), instance("i-b")], 1000);
    expect(m.size()).toBe(3);
    m.applyPeerStatus(status("i-a", "healthy"), 1500);
    m.applyListing([instance("i-self"), instance("i-a", "127.0.0.3:8080"), instance("i-c", "127.0.0.5:8080")], 2000);
    expect(m.peers().map((p) => [p.instanceId, p.health, p.source])).toEqual([
      ["i-a", "healthy", "ec2"],
      ["i-c", "unknown", "ec2"],
    ]);
    expect(m.size()).toBe(3);
  });

  it("counts itself even before a listing shows it", () => {
    const m = new Membership("i-self");
    expect(m.size()).toBe(1);
    m.applyListing([instance("i-a")], 0);
    expect(m.size()).toBe(2);
  });

  it("learns newcomers from peers only when the peer's listing is newer than its own", () => {
    const m = new Membership("i-self");
    m.applyListing([instance("i-a", "127.0.0.3:8080")], 1000);
    m.applyPeerStatus(status("i-a", "healthy", [{ id: "i-old", seenAt: 900 }, { id: "i-new", seenAt: 1100, endpoint: "127.0.0.9:8080" }, { id: "i-self", seenAt: 1100 }]), 1200);
    expect(m.peers().map((p) => [p.instanceId, p.source, p.endpoint])).toEqual([
      ["i-a", "ec2", "127.0.0.3:8080"],
      ["i-new", "peer", "127.0.0.9:8080"],
    ]);
  });

  it("drops a peer that stops answering, and stale gossip cannot bring it back; a newer listing can", () => {
    const m = new Membership("i-self");
    m.applyListing([instance("i-a", "127.0.0.3:8080"), instance("i-b", "127.0.0.4:8080")], 1000);
    for (let i = 1; i < DROP_AFTER_FAILURES; i++) m.applyAskFailure("i-b", 1000 + i);
    expect(m.peers().find((p) => p.instanceId === "i-b")?.health).toBe("unreachable");
    m.applyAskFailure("i-b", 1100);
    expect(m.peers().map((p) => p.instanceId)).toEqual(["i-a"]);
    m.applyPeerStatus(status("i-a", "healthy", [{ id: "i-b", seenAt: 1050, endpoint: "127.0.0.4:8080" }]), 1200);
    expect(m.peers().map((p) => p.instanceId)).toEqual(["i-a"]);
    m.applyPeerStatus(status("i-a", "healthy", [{ id: "i-b", seenAt: 1150, endpoint: "127.0.0.4:8080" }]), 1300);
    expect(m.peers().map((p) => p.instanceId)).toEqual(["i-a", "i-b"]);
  });

  it("asks the least recently asked peers with an endpoint, never itself", () => {
    const m = new Membership("i-self");
    m.applyListing([instance("i-self", "127.0.0.2:8080"), instance("i-a", "127.0.0.3:8080"), instance("i-b", "127.0.0.4:8080"), instance("i-c"), instance("i-d", "127.0.0.6:8080")], 0);
    expect(m.toAsk(2).map((p) => p.instanceId)).toEqual(["i-a", "i-b"]);
    m.applyPeerStatus(status("i-a", "healthy"), 10);
    m.applyPeerStatus(status("i-b", "starting"), 20);
    expect(m.toAsk(2).map((p) => p.instanceId)).toEqual(["i-d", "i-a"]);
  });

  it("reports each peer's health as that peer said it, or unknown", () => {
    const m = new Membership("i-self");
    m.applyListing([instance("i-a", "127.0.0.3:8080")], 0);
    m.applyPeerStatus(status("i-a", "some-future-state"), 5);
    expect(m.peers()[0]).toMatchObject({ health: "unknown", askedAt: new Date(5).toISOString() });
    m.applyPeerStatus(status("i-a", "restarting"), 6);
    expect(m.peers()[0]?.health).toBe("restarting");
  });
});
