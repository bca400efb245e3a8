/**
 * Who acts, computed alike by every member from its own view, with no messages:
 * - the rendezvous order of a claim key (highest sha256(key + "\n" + member) first), whose rank r
 *   tries the claim r graces after noticing it (capped at MAX_RANK_DELAY graces);
 * - the watcher ring (members ordered by sha256(id)): each watches the WATCHERS members after it,
 *   so a silent death is noticed by 3 members within an ask round, at any cluster size.
 * Stale views disagree only at the margins; the claim's conditional write settles any overlap.
 */
import { createHash } from "node:crypto";
import { MAX_RANK_DELAY, REPAIR_GRACE_MS, WATCHERS } from "./constants.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** sha256(key + "\n" + member) as hex: compared as strings (same length, so in numeric order). */
export function rendezvousScore(key: string, member: string): string {
  return sha256(`${key}\n${member}`);
}

/**
 * `member`'s rank for `key` among `members` (0 = first; `member` counts whether listed or not).
 * O(N) hashes and no sort: a member needs only its own rank. Equal scores (never in practice)
 * fall back to the smaller id first, so the order stays total.
 */
export function rendezvousRank(key: string, member: string, members: readonly string[]): number {
  const mine = rendezvousScore(key, member);
  let rank = 0;
  for (const other of new Set(members)) {
    if (other === member) continue;
    const score = rendezvousScore(key, other);
    if (score > mine || (score === mine && other < member)) rank++;
  }
  return rank;
}

/** The wait before rank r tries: r graces, ranks >= MAX_RANK_DELAY all wait MAX_RANK_DELAY graces. */
export function claimDelayMs(rank: number, graceMs = REPAIR_GRACE_MS): number {
  return Math.min(Math.max(0, rank), MAX_RANK_DELAY) * graceMs;
}

/** The watcher ring of one membership: build once per membership change, then cheap lookups. */
export interface WatcherRing {
  readonly size: number;
  /** The members `member` watches (the WATCHERS after it on the ring), nearest first. */
  watchedBy(member: string): string[];
  /** The watchers of `member` (the WATCHERS before it), nearest first: its repairers' order. */
  watchersOf(member: string): string[];
  /** Whether `member` is on the ring. */
  has(member: string): boolean;
}

/**
 * sha256(id) per id, remembered: ids are immutable, so a membership change hashes only the new
 * members. Bounded so a long-lived worker in a churning cluster does not grow it for ever.
 */
const idHashes = new Map<string, string>();
const ID_HASHES_MAX = 20_000;
function idHash(id: string): string {
  let hash = idHashes.get(id);
  if (hash === undefined) {
    if (idHashes.size >= ID_HASHES_MAX) idHashes.clear();
    hash = sha256(id);
    idHashes.set(id, hash);
  }
  return hash;
}

/**
 * The last rings built, newest first: the worker asks for the same membership every round, and
 * its ask rounds and its decisions may use two (self and the dead in or out).
 */
const recentRings: Array<{ fingerprint: string; ring: WatcherRing }> = [];
const RECENT_RINGS = 4;

/**
 * Builds the ring: one sort by sha256(id), then each lookup is a map hit (members) or a binary
 * search (an id not on it, such as a dead member discovery already dropped: its watchers are the
 * members that would precede it). The same membership (in any order) returns the same ring object
 * without sorting again.
 */
export function watcherRing(members: readonly string[], watchers = WATCHERS): WatcherRing {
  const unique = [...new Set(members)];
  const fingerprint = `${watchers}:${unique.slice().sort().join(",")}`;
  const known = recentRings.findIndex((r) => r.fingerprint === fingerprint);
  if (known >= 0) {
    const [hit] = recentRings.splice(known, 1);
    recentRings.unshift(hit!);
    return hit!.ring;
  }
  const order = unique.map((id) => ({ id, hash: idHash(id) })).sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.id < b.id ? -1 : 1));
  const index = new Map(order.map((entry, i) => [entry.id, i]));
  const n = order.length;
  /** Where `member` is, or where it would go (then `present` is false). */
  const position = (member: string): { at: number; present: boolean } => {
    const known = index.get(member);
    if (known !== undefined) return { at: known, present: true };
    const hash = idHash(member);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const entry = order[mid]!;
      if (entry.hash < hash || (entry.hash === hash && entry.id < member)) lo = mid + 1;
      else hi = mid;
    }
    return { at: lo, present: false };
  };
  const ring: WatcherRing = {
    size: n,
    has: (member) => index.has(member),
    watchedBy(member) {
      const { at, present } = position(member);
      const others = present ? n - 1 : n;
      const first = present ? at + 1 : at;
      return Array.from({ length: Math.min(watchers, others) }, (_, i) => order[(first + i) % n]!.id);
    },
    watchersOf(member) {
      const { at, present } = position(member);
      const others = present ? n - 1 : n;
      return Array.from({ length: Math.min(watchers, others) }, (_, i) => order[(((at - 1 - i) % n) + n) % n]!.id);
    },
  };
  recentRings.unshift({ fingerprint, ring });
  recentRings.length = Math.min(recentRings.length, RECENT_RINGS);
  return ring;
}
