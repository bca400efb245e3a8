import { describe, expect, it } from "vitest";
import { chunksPerGet, planGets } from "../../../src/worker/weights/get-plan.js";

const MiB = 2 ** 20;

describe("which ranged GETs fetch a file's missing chunks", () => {
  it("one GET per run of consecutive chunks, at most chunksPerGet long", () => {
    expect(planGets([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([
      { first: 0, last: 3 },
      { first: 4, last: 7 },
      { first: 8, last: 9 },
    ]);
  });

  it("a chunk already verified on disk (a resume) ends a run: it is never asked for again", () => {
    expect(planGets([0, 1, 3, 4, 5, 9], 4)).toEqual([
      { first: 0, last: 1 },
      { first: 3, last: 5 },
      { first: 9, last: 9 },
    ]);
    expect(planGets([], 4)).toEqual([]);
  });

  it("whole chunks only, at least one per GET, whatever the manifest's chunk size", () => {
    expect(chunksPerGet(64 * MiB, 16 * MiB)).toBe(4);
    expect(chunksPerGet(64 * MiB, 24 * MiB)).toBe(2);
    expect(chunksPerGet(64 * MiB, 128 * MiB)).toBe(1);
    expect(planGets([0, 1, 2], 1)).toEqual([{ first: 0, last: 0 }, { first: 1, last: 1 }, { first: 2, last: 2 }]);
  });
});
