import { describe, expect, it } from "vitest";
import { decide, DEFAULT_PART_SIZE, partSizeFor } from "../../../src/deployer/upload/plan.js";

const local = { size: 100, sha256: "ab".repeat(32) };

describe("skip decision", () => {
  it.each([
    ["no object", undefined, { action: "upload", reason: "missing" }],
    ["another size (truncated)", { size: 99, metadata: { sha256: local.sha256 } }, { action: "upload", reason: "size-differs" }],
    ["no sha256 metadata (put by another tool)", { size: 100, metadata: {} }, { action: "upload", reason: "no-sha256-metadata" }],
    ["same size, other hash", { size: 100, metadata: { sha256: "cd".repeat(32) } }, { action: "upload", reason: "sha256-differs" }],
    ["same size and hash", { size: 100, metadata: { sha256: local.sha256 } }, { action: "skip" }],
    ["same hash in upper case", { size: 100, metadata: { sha256: local.sha256.toUpperCase() } }, { action: "skip" }],
  ])("%s", (_name, remote, expected) => {
    expect(decide(local, remote)).toEqual(expected);
  });
});

describe("part size", () => {
  it("is 8 MiB for ordinary files and grows so no file needs more than 10,000 parts", () => {
    expect(partSizeFor(1)).toBe(DEFAULT_PART_SIZE);
    expect(partSizeFor(50 * 1024 ** 3)).toBe(DEFAULT_PART_SIZE);
    const huge = 200 * 1024 ** 3;
    const part = partSizeFor(huge);
    expect(Math.ceil(huge / part)).toBeLessThanOrEqual(10_000);
    expect(part % (1024 * 1024)).toBe(0);
  });

  it("honours a larger preferred size", () => {
    expect(partSizeFor(1, 16 * 1024 * 1024)).toBe(16 * 1024 * 1024);
  });
});
