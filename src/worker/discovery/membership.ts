import type { PeerInstance } from "../../aws/ec2-peers.js";
import { MAX_PEERS_PER_ANSWER, peerHealthOf, type PeerEntry, type PeerHealth, type PeerStatus } from "../../cluster/status-document.js";
import { TAG_ENDPOINT } from "../../infra/names.js";

interface Member {
  instanceId: string;
  endpoint: string | null;
  availabilityZone: string | null;
  health: PeerHealth;
  askedAt: number | null;
  seenAt: number;
  /** "ec2": this worker's own listing showed it (it counts in N); "peer": only gossip did (unconfirmed). */
  source: "ec2" | "peer";
  failures: number;
}

/** Consecutive failed asks before a member is treated as gone until a listing shows it again. */
export const DROP_AFTER_FAILURES = 3;
/**
 * Members learned from gossip and not yet in one of this worker's listings, kept at most. They
 * are only there to be asked before the next listing shows them; a forger's ids cannot grow past it.
 */
export const MAX_UNCONFIRMED = 64;
/** A `seenAt` later than this worker's clock plus this is a lie or a broken clock: the entry is ignored. */
export const MAX_CLOCK_SKEW_MS = 30_000;
/** Tombstones kept at most between two listings (a listing makes them all moot). */
export const MAX_TOMBSTONES = 4096;

/**
 * This worker's view of the cluster. EC2 is the authority on who exists (an own listing replaces
 * the view); each peer is the authority on its own health (asked, never inferred). Between
 * listings, members learn newcomers from peers' /status: an entry a peer saw in an EC2 listing
 * newer than this worker's last one is added, *unconfirmed*. A member that stops answering is
 * dropped after DROP_AFTER_FAILURES asks, and a tombstone keeps stale gossip from bringing it back:
 * only a listing made after the drop can.
 *
 * A peer's answer is untrusted input (one compromised or broken worker must not poison the rest):
 * - only members an own listing showed count in `size()`, the N of the discovery budget, so no
 *   answer can stretch this worker's listing interval or its view of the cluster's size;
 * - at most MAX_PEERS_PER_ANSWER entries of an answer are read, at most MAX_UNCONFIRMED
 *   unconfirmed members are kept, a `seenAt` in the future (beyond MAX_CLOCK_SKEW_MS) is ignored;
 * - unconfirmed members get a quarter of each round's asks, and one failed ask drops them.
 * Gossip only speeds up learning a newcomer's health; the next listing settles who exists.
 */
export class Membership {
  private members = new Map<string, Member>();
  private readonly dropped = new Map<string, number>();
  private lastListingAt = Number.NEGATIVE_INFINITY;

  constructor(readonly self: string) {}

  /** Members an own EC2 listing showed, including this worker (at least 1): the N of the discovery budget. */
  size(): number {
    let confirmed = 0;
    for (const m of this.members.values()) if (m.source === "ec2" && m.instanceId !== this.self) confirmed += 1;
    return confirmed + 1;
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
    }
    this.members = next;
    this.lastListingAt = at;
    // Gossip older than this listing is refused anyway: every tombstone (all made before now) is moot.
    this.dropped.clear();
  }

  /** A peer answered: its health, and what it knows of the others. */
  applyPeerStatus(status: PeerStatus, at: number): void {
    const asked = this.members.get(status.instanceId);
    if (asked) Object.assign(asked, { health: peerHealthOf(status.modelServer.state), askedAt: at, failures: 0 });
    let unconfirmed = this.unconfirmed();
    for (const entry of status.peers.slice(0, MAX_PEERS_PER_ANSWER)) {
      if (entry.instanceId === this.self) continue;
      const seenAt = Date.parse(entry.seenAt);
      if (!Number.isFinite(seenAt) || seenAt > at + MAX_CLOCK_SKEW_MS) continue;
      const known = this.members.get(entry.instanceId);
      if (known) {
        known.seenAt = Math.max(known.seenAt, seenAt);
        known.endpoint ??= entry.endpoint;
        continue;
      }
      const droppedAt = this.dropped.get(entry.instanceId);
      if (seenAt <= this.lastListingAt || (droppedAt !== undefined && seenAt <= droppedAt)) continue;
      if (unconfirmed >= MAX_UNCONFIRMED) continue;
      unconfirmed += 1;
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
    // Only EC2 vouches for an unconfirmed member: one failed ask is enough to forget it.
    if (member.failures >= DROP_AFTER_FAILURES || member.source === "peer") {
      this.members.delete(instanceId);
      this.tombstone(instanceId, at);
    }
  }

  /**
   * Up to `fanout` peers with an endpoint, least recently asked first (never asked: first of all);
   * unconfirmed ones fill at most a quarter of them (at least one), so gossip cannot crowd out
   * the members EC2 showed.
   */
  toAsk(fanout: number): { instanceId: string; endpoint: string }[] {
    const askable = [...this.members.values()]
      .filter((m): m is Member & { endpoint: string } => m.instanceId !== this.self && m.endpoint !== null)
      .sort((a, b) => (a.askedAt ?? -1) - (b.askedAt ?? -1) || a.instanceId.localeCompare(b.instanceId));
    let unconfirmedLeft = Math.max(1, Math.floor(fanout / 4));
    const chosen: Array<Member & { endpoint: string }> = [];
    for (const m of askable) {
      if (chosen.length >= fanout) break;
      if (m.source === "peer" && unconfirmedLeft-- <= 0) continue;
      chosen.push(m);
    }
    return chosen.map(({ instanceId, endpoint }) => ({ instanceId, endpoint }));
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

  private unconfirmed(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.source === "peer") n += 1;
    return n;
  }

  /** Remembers a drop; the oldest tombstone goes first when there are too many (it only lets old gossip in, unconfirmed). */
  private tombstone(instanceId: string, at: number): void {
    this.dropped.delete(instanceId);
    this.dropped.set(instanceId, at);
    if (this.dropped.size > MAX_TOMBSTONES) this.dropped.delete(this.dropped.keys().next().value!);
  }
}
