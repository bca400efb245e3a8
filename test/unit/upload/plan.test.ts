import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { decide, DEFAULT_PART_SIZE, partSizeFor } from "../../../src/deployer/upload/plan.js";

const local = { size: 100, sha256: "ab".repeat(32) };
const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
// A multipart object whose parts were the file's chunks: S3's composite is the SHA-256 of their hashes.
const chunked = { size: 100, sha256: "ab".repeat(32), chunks: ["01".repeat(32), "02".repeat(32)] };
const composite = createHash("sha256").update(Buffer.from(chunked.chunks.join(""), "hex")).digest("base64");

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

  // Without metadata (weights sent while hashed), S3's own checksum vouches for the bytes.
  it.each([
    ["one PUT: S3's SHA-256 is the file's", { size: 100, metadata: {}, checksumSha256: b64(chunked.sha256), etag: '"e"' }, { action: "skip" }],
    ["one PUT: another SHA-256", { size: 100, metadata: {}, checksumSha256: b64("cd".repeat(32)), etag: '"e"' }, { action: "upload", reason: "sha256-differs" }],
    ["multipart, composite of the chunk hashes (S3's -N form)", { size: 100, metadata: {}, checksumSha256: `${composite}-2`, etag: '"e-2"' }, { action: "skip" }],
    ["multipart, composite of the chunk hashes (moto: the ETag says multipart)", { size: 100, metadata: {}, checksumSha256: composite, etag: '"e-2"' }, { action: "skip" }],
    ["multipart, other bytes", { size: 100, metadata: {}, checksumSha256: `${b64("cd".repeat(32))}-2`, etag: '"e-2"' }, { action: "upload", reason: "sha256-differs" }],
    ["multipart in other parts than the chunks (another tool)", { size: 100, metadata: {}, checksumSha256: `${composite}-3`, etag: '"e-3"' }, { action: "upload", reason: "no-sha256-metadata" }],
    ["metadata wins over the checksum", { size: 100, metadata: { sha256: "cd".repeat(32) }, checksumSha256: b64(chunked.sha256) }, { action: "upload", reason: "sha256-differs" }],
  ])("%s", (_name, remote, expected) => {
    expect(decide(chunked, remote)).toEqual(expected);
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
