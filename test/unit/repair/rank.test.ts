import { describe, expect, it } from "vitest";
import { claimDelayMs, REPAIR_GRACE_MS, rendezvousRank, rendezvousScore, watcherRing, WATCHERS } from "../../../src/repair/index.js";

const ids = (n: number) => Array.from({ length: n }, (_, k) => `i-${k.toString(16).padStart(17, "0")}`);

describe("rendezvous order of a claim key", () => {
  it("ranks are a permutation: exactly one member is first", () => {
    const members = ids(50);
    const ranks = members.map((m) => rendezvousRank("0-i-dead", m, members)).sort((a, b) => a - b);
    expect(ranks).toEqual(members.map((_, k) => k));
  });

  it("the first is the highest sha256(key + newline + member), and keys spread the work", () => {
    const members = ids(20);
    const first = (key: string) => members.find((m) => rendezvousRank(key, m, members) === 0)!;
    expect(first("0-i-dead")).toBe([...members].sort((a, b) => (rendezvousScore("0-i-dead", b) > rendezvousScore("0-i-dead", a) ? 1 : -1))[0]);
    expect(new Set(Array.from({ length: 40 }, (_, k) => first(`${k}-i-dead`))).size).toBeGreaterThan(5);
  });

  it("a member's rank moves only by the members it ranks against (stale views differ at the margins)", () => {
    const members = ids(10);
    const me = members[3]!;
    const rank = rendezvousRank("1-x", me, members);
    expect(rendezvousRank("1-x", me, members.filter((m) => m !== me))).toBe(rank);
    expect(Math.abs(rendezvousRank("1-x", me, [...members, "i-new"]) - rank)).toBeLessThanOrEqual(1);
  });

  it.each([[0, 0], [1, REPAIR_GRACE_MS], [2, 2 * REPAIR_GRACE_MS], [3, 3 * REPAIR_GRACE_MS], [500, 3 * REPAIR_GRACE_MS]])("rank %i waits %i ms", (rank, delay) => {
    expect(claimDelayMs(rank)).toBe(delay);
  });
});

describe("the watcher ring", () => {
  it("each member watches the 3 after it and has 3 watchers, the relation mirrored", () => {
    const members = ids(30);
    const ring = watcherRing(members);
    for (const m of members) {
      expect(ring.watchedBy(m)).toHaveLength(WATCHERS);
      expect(ring.watchersOf(m)).toHaveLength(WATCHERS);
      for (const w of ring.watchersOf(m)) expect(ring.watchedBy(w)).toContain(m);
    }
    const watchCount = new Map<string, number>();
    for (const m of members) for (const t of ring.watchedBy(m)) watchCount.set(t, (watchCount.get(t) ?? 0) + 1);
    expect([...watchCount.values()].every((n) => n === WATCHERS)).toBe(true);
  });

  it("nearest first: the first watcher of m is the member m is first watched by", () => {
    const ring = watcherRing(ids(10));
    for (const m of ids(10)) expect(ring.watchedBy(ring.watchersOf(m)[0]!)[0]).toBe(m);
  });

  it("a dead member no longer on the ring keeps the watchers it had", () => {
    const members = ids(12);
    const dead = members[5]!;
    const before = watcherRing(members).watchersOf(dead);
    const after = watcherRing(members.filter((m) => m !== dead));
    expect(after.has(dead)).toBe(false);
    expect(after.watchersOf(dead)).toEqual(before);
  });

  it("small clusters: everyone watches everyone else", () => {
    const ring = watcherRing(["a", "b"]);
    expect(ring.watchedBy("a")).toEqual(["b"]);
    expect(watcherRing(["a"]).watchedBy("a")).toEqual([]);
  });

  it("the same membership in another order is the same ring, not sorted again", () => {
    const members = ids(100);
    expect(watcherRing([...members].reverse())).toBe(watcherRing(members));
  });

  it("fast at 1000 members: a rebuild and 1000 lookups, best of 3 under 100 ms on a loaded machine", () => {
    const members = ids(1000);
    const times = [1, 2, 3].map((k) => {
      const started = performance.now();
      const ring = watcherRing([...members, `i-extra-${k}`]);
      for (const m of members) ring.watchersOf(m);
      return performance.now() - started;
    });
    expect(Math.min(...times)).toBeLessThan(100);
  });
});
