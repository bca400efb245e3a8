import { describe, expect, it } from "vitest";
import { watchChecksDue, watchRecheckMs, type WatchInput } from "../../../src/repair/index.js";

const NOW = 1_000_000_000;
const input = (over: Partial<WatchInput>): WatchInput => ({ failed: [], aliveChecked: new Set(), lastCheckAt: undefined, now: NOW, clusterSize: 10, ...over });

describe("a watcher's EC2 checks", () => {
  it.each<[string, Partial<WatchInput>, string[]]>([
    ["every ask answered: no call", {}, []],
    ["a member that answered last round and fails now: checked at once", { failed: ["a"] }, ["a"]],
    ["two at once: one call for both", { failed: ["a", "b"] }, ["a", "b"]],
    ["called alive and still failing: not again before the interval", { failed: ["a"], aliveChecked: new Set(["a"]), lastCheckAt: NOW - 29_000 }, []],
    ["the interval counts from any call, a first check too", { failed: ["a", "b"], aliveChecked: new Set(["a", "b"]), lastCheckAt: NOW - 5000 }, []],
    ["called alive and still failing: again after the interval", { failed: ["a"], aliveChecked: new Set(["a"]), lastCheckAt: NOW - 30_000 }, ["a"]],
    ["a first check carries the re-checks with it (no extra call)", { failed: ["a", "b"], aliveChecked: new Set(["a"]), lastCheckAt: NOW - 1000 }, ["b", "a"]],
    ["at 1000 members the re-check waits 2000 s", { failed: ["a"], aliveChecked: new Set(["a"]), lastCheckAt: NOW - 1999_000, clusterSize: 1000 }, []],
  ])("%s", (_name, over, expected) => {
    expect(watchChecksDue(input(over))).toEqual(expected);
  });

  it.each([[3, 30_000], [10, 30_000], [100, 200_000], [1000, 2_000_000]])("re-check interval at %i members: %i ms", (n, ms) => {
    expect(watchRecheckMs(n)).toBe(ms);
  });
});
