import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ChunkHasher, chunkCount, chunkRange } from "../../src/artifacts/chunks.js";
import { digestOfFile, openFile } from "../../src/deployer/upload/local-read.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("per-chunk SHA-256 (manifest version 2)", () => {
  it.each([
    [0, 0],
    [1, 1],
    [8, 1],
    [9, 2],
    [24, 3],
  ])("a %i-byte file has %i chunks of 8 bytes", (size, n) => {
    expect(chunkCount(size, 8)).toBe(n);
  });

  it("gives byte ranges whose last one is shorter", () => {
    expect(chunkRange(20, 0, 8)).toEqual({ start: 0, end: 8 });
    expect(chunkRange(20, 2, 8)).toEqual({ start: 16, end: 20 });
  });

  it("hashes every chunk and the whole file in one pass, whatever the slicing of the input", () => {
    const bytes = randomBytes(8 * 3 + 5);
    const want = { size: bytes.length, sha256: sha(bytes), chunks: [0, 1, 2, 3].map((i) => sha(bytes.subarray(i * 8, Math.min(bytes.length, i * 8 + 8)))) };
    for (const slice of [1, 3, 7, 8, 9, 100]) {
      const hasher = new ChunkHasher(8);
      for (let at = 0; at < bytes.length; at += slice) hasher.update(bytes.subarray(at, at + slice));
      expect(hasher.digest()).toEqual(want);
    }
  });

  it("lists no chunk for an empty file and exactly n for a multiple of the chunk size", () => {
    expect(new ChunkHasher(8).digest().chunks).toEqual([]);
    expect(new ChunkHasher(8).update(new Uint8Array(16)).digest().chunks).toHaveLength(2);
  });

  it("digests a file on disk the same way", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "chunks-"));
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(path.join(dir, "f"), bytes);
    const d = await digestOfFile(openFile, path.join(dir, "f"), 1024 * 1024);
    expect(d.sha256).toBe(sha(bytes));
    expect(d.chunks).toEqual([0, 1, 2, 3].map((i) => sha(bytes.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024))));
  });
});
