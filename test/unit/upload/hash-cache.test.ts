import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashCacheFile, loadHashCache } from "../../../src/deployer/upload/hash-cache.js";

// The per-user cache of local files' hashes: an entry answers only for the same file, unchanged.
const dir = mkdtempSync(path.join(tmpdir(), "synkti-hash-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const A = "a".repeat(64);
const B = "b".repeat(64);
const id = { size: 10, mtimeMs: 1000.5, ctimeMs: 1000.5, ino: 42 };
const digest = { size: 10, sha256: A, chunks: [B] };
let n = 0;
const fresh = () => path.join(dir, `cache-${n++}`, "upload-hashes.json");

describe("hash cache", () => {
  it("lives in the user cache folder", () => {
    expect(hashCacheFile({ XDG_CACHE_HOME: "/c" })).toBe("/c/synkti/upload-hashes.json");
  });

  it("remembers a digest across runs for the same path, size, mtime, ctime and inode only", async () => {
    const file = fresh();
    const first = await loadHashCache(file);
    first.put("/w/a.bin", id, 64, digest);
    await first.save();
    const next = await loadHashCache(file);
    expect(next.get("/w/a.bin", id, 64)).toEqual(digest);
    expect(next.get("/w/other.bin", id, 64)).toBeUndefined();
    for (const change of [{ size: 11 }, { mtimeMs: 2000 }, { ctimeMs: 2000 }, { ino: 43 }]) {
      expect(next.get("/w/a.bin", { ...id, ...change }, 64)).toBeUndefined();
    }
    expect(next.get("/w/a.bin", id, 32)).toBeUndefined(); // hashed with another chunk size
  });

  it("keeps nothing for a file whose digest does not match its size (changed while read)", async () => {
    const file = fresh();
    const cache = await loadHashCache(file);
    cache.put("/w/a.bin", id, 64, { ...digest, size: 9 });
    expect(cache.get("/w/a.bin", id, 64)).toBeUndefined();
  });

  it("ignores a damaged, malformed or group-writable file", async () => {
    const file = fresh();
    const cache = await loadHashCache(file);
    cache.put("/w/a.bin", id, 64, digest);
    await cache.save();
    const good = readFileSync(file, "utf8");
    writeFileSync(file, "{ not json");
    expect((await loadHashCache(file)).get("/w/a.bin", id, 64)).toBeUndefined();
    writeFileSync(file, good.replace(A, "not-a-hash"));
    expect((await loadHashCache(file)).get("/w/a.bin", id, 64)).toBeUndefined();
    writeFileSync(file, good);
    chmodSync(file, 0o666);
    expect((await loadHashCache(file)).get("/w/a.bin", id, 64)).toBeUndefined();
  });

  it("merges with entries another run saved meanwhile", async () => {
    const file = fresh();
    const one = await loadHashCache(file);
    const two = await loadHashCache(file);
    one.put("/w/a.bin", id, 64, digest);
    two.put("/w/b.bin", id, 64, digest);
    await one.save();
    await two.save();
    const both = await loadHashCache(file);
    expect([both.get("/w/a.bin", id, 64), both.get("/w/b.bin", id, 64)]).toEqual([digest, digest]);
  });
});
