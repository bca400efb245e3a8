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

/** sha256(key + "\n" + member) as hex: compared as strings (same length, so in numeric order). */
export function rendezvousScore(key: string, member: string): string {
  return createHash("sha256").update(`${key}\n${member}`).digest("hex");
}

/** `member`'s rank for `key` among `members` (0 = first). O(N) hashes, no sort. */
export function rendezvousRank(key: string, member: string, members: readonly string[]): number {
  throw new Error("not implemented");
}

/** The wait before rank r tries: r graces, ranks >= MAX_RANK_DELAY all wait MAX_RANK_DELAY graces. */
export function claimDelayMs(rank: number, graceMs = REPAIR_GRACE_MS): number {
  return Math.min(Math.max(0, rank), MAX_RANK_DELAY) * graceMs;
}

/** The watcher ring of one membership: build once per membership change, then O(1)/O(log N) lookups. */
export interface WatcherRing {
  readonly size: number;
  /** The members `member` watches (the WATCHERS after it on the ring), nearest first. */
  watchedBy(member: string): string[];
  /** The watchers of `member` (the WATCHERS before it), nearest first: its repairers' order. */
  watchersOf(member: string): string[];
  /** Whether `member` is on the ring. */
  has(member: string): boolean;
}

/** Builds the ring (one sha256 per member, one sort). `member` not on it: watchers as if inserted. */
export function watcherRing(members: readonly string[], watchers = WATCHERS): WatcherRing {
  throw new Error("not implemented");
}
