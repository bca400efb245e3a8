import type { PeerInstance } from "../../aws/ec2-peers.js";
import { peerHealthOf, type PeerEntry, type PeerHealth, type PeerStatus } from "../../cluster/status-document.js";
import { TAG_ENDPOINT } from "../../infra/names.js";

interface Member {
  instanceId: string;
  endpoint: string | null;
  availabilityZone: string | null;
  health: PeerHealth;
  askedAt: number | null;
  seenAt: number;
  source: "ec2" | "peer";
  failures: number;
}

/** Consecutive failed asks before a member is treated as gone until a listing shows it again. */
export const DROP_AFTER_FAILURES = 3;

/**
 * This worker's view of the cluster. EC2 is the authority on who exists (an own listing replaces
 * the view); each peer is the authority on its own health (asked, never inferred). Between
 * listings, members learn newcomers from peers' /status: an entry a peer saw in an EC2 listing
 * newer than this worker's last one is added. A member that stops answering is dropped after
 * DROP_AFTER_FAILURES asks, and a tombstone keeps stale gossip from bringing it back: only a
 * listing made after the drop can.
 */
export class Membership {
  private members = new Map<string, Member>();
  private readonly dropped = new Map<string, number>();
  private lastListingAt = Number.NEGATIVE_INFINITY;

  constructor(readonly self: string) {}

  /** Members including this worker (at least 1): the N of the discovery budget. */
  size(): number {
    return this.members.size + (this.members.has(this.self) ? 0 : 1);
  }

  applyListing(instances: readonly PeerInstance[], at: number): void {
    const next = new Map<string, Member>();
    for (const i of instances) {
      const known = this.members.get(i.instanceId);
      next.set(i.instanceId, {
        instanceId: i.instanceId,
        endpoint: i.tags[TAG_ENDPOINT] ?? known?.endpoint ?? null,
        availabilityZone: i.availabilityZone ?? known?.availabilityZone ?? null,
        health: known?.health ?? "unknown",
        askedAt: known?.askedAt ?? null,
        seenAt: at,
        source: "ec2",
        failures: known?.failures ?? 0,
      });
      this.dropped.delete(i.instanceId);
    }
    this.members = next;
    this.lastListingAt = at;
  }

  /** A peer answered: its health, and what it knows of the others. */
  applyPeerStatus(status: PeerStatus, at: number): void {
    const asked = this.members.get(status.instanceId);
    if (asked) Object.assign(asked, { health: peerHealthOf(status.modelServer.state), askedAt: at, failures: 0 });
    for (const entry of status.peers) {
      if (entry.instanceId === this.self) continue;
      const seenAt = Date.parse(entry.seenAt);
      if (!Number.isFinite(seenAt)) continue;
      const known = this.members.get(entry.instanceId);
      if (known) {
        known.seenAt = Math.max(known.seenAt, seenAt);
        known.endpoint ??= entry.endpoint;
        continue;
      }
      const droppedAt = this.dropped.get(entry.instanceId);
      if (seenAt <= this.lastListingAt || (droppedAt !== undefined && seenAt <= droppedAt)) continue;
      this.members.set(entry.instanceId, {
        instanceId: entry.instanceId,
        endpoint: entry.endpoint,
        availabilityZone: entry.availabilityZone ?? null,
        health: "unknown",
        askedAt: null,
        seenAt,
        source: "peer",
        failures: 0,
      });
    }
  }

  applyAskFailure(instanceId: string, at: number): void {
    const member = this.members.get(instanceId);
    if (!member) return;
    Object.assign(member, { health: "unreachable", askedAt: at, failures: member.failures + 1 });
    if (member.failures >= DROP_AFTER_FAILURES) {
      this.members.delete(instanceId);
      this.dropped.set(instanceId, at);
    }
  }

  /** Up to `fanout` peers with an endpoint, least recently asked first (never asked: first of all). */
  toAsk(fanout: number): { instanceId: string; endpoint: string }[] {
    return [...this.members.values()]
      .filter((m): m is Member & { endpoint: string } => m.instanceId !== this.self && m.endpoint !== null)
      .sort((a, b) => (a.askedAt ?? -1) - (b.askedAt ?? -1) || a.instanceId.localeCompare(b.instanceId))
      .slice(0, fanout)
      .map(({ instanceId, endpoint }) => ({ instanceId, endpoint }));
  }

  peers(): PeerEntry[] {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return [...this.members.values()]
      .filter((m) => m.instanceId !== this.self)
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId))
      .map((m) => ({
        instanceId: m.instanceId,
        endpoint: m.endpoint,
        availabilityZone: m.availabilityZone,
        health: m.health,
        askedAt: iso(m.askedAt),
        seenAt: iso(m.seenAt)!,
        source: m.source,
      }));
  }
}
