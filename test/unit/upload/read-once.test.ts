import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { uploadFiles } from "../../../src/deployer/upload/file-batch.js";
import { loadHashCache } from "../../../src/deployer/upload/hash-cache.js";
import type { LocalFile } from "../../../src/deployer/upload/local-files.js";
import { openFile, type OpenFile } from "../../../src/deployer/upload/local-read.js";
import { FakeTransfer } from "./fake-transfer.js";

// "Uploads read the weights once": every local byte goes through one opener, which counts them.
const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), "synkti-read-once-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** 5 MiB chunks (S3's smallest part): one small PUT, one under a part, one multipart of 4 parts. */
const CHUNK = 5 * MiB;
const chunksOf = (b: Buffer) => Array.from({ length: Math.ceil(b.length / CHUNK) }, (_, i) => sha(b.subarray(i * CHUNK, (i + 1) * CHUNK)));
const SIZES = { "config.json": 300, "tokenizer.json": 3 * MiB, "model.safetensors": 17 * MiB };

function weights(): { list: LocalFile[]; bytes: Map<string, Buffer> } {
  const sub = mkdtempSync(path.join(dir, "w-"));
  const bytes = new Map<string, Buffer>();
  const list = Object.entries(SIZES).map(([name, size]) => {
    const content = randomBytes(size);
    writeFileSync(path.join(sub, name), content);
    bytes.set(name, content);
    return { path: name, absolutePath: path.join(sub, name), size };
  });
  return { list, bytes };
}

/** The real opener, with every byte it delivers counted per file. */
function counting(): { open: OpenFile; read: (file: LocalFile) => number; total: () => number } {
  const counts = new Map<string, number>();
  const open: OpenFile = async (file) => {
    const handle = await openFile(file);
    return {
      async read(buffer, offset, length, position) {
        const got = await handle.read(buffer, offset, length, position);
        counts.set(file, (counts.get(file) ?? 0) + got.bytesRead);
        return got;
      },
      close: () => handle.close(),
    };
  };
  return { open, read: (f) => counts.get(f.absolutePath) ?? 0, total: () => [...counts.values()].reduce((a, b) => a + b, 0) };
}

const run = (transfer: FakeTransfer, list: LocalFile[], extra: Partial<Parameters<typeof uploadFiles>[0]>) =>
  uploadFiles({ transfer, log: silentLogger, concurrency: 4, chunkSize: CHUNK, ...extra }, { bucket: "b", prefix: "m/", files: list });

describe("the model upload reads each byte once", () => {
  it("a first upload reads every file exactly once, and still stores its sha256 metadata and chunk hashes", async () => {
    const { list, bytes } = weights();
    const transfer = new FakeTransfer();
    const reads = counting();
    const outcomes = await run(transfer, list, { open: reads.open });
    for (const file of list) {
      expect({ file: file.path, read: reads.read(file) }).toEqual({ file: file.path, read: file.size });
      const content = bytes.get(file.path)!;
      const stored = transfer.objects.get(`m/${file.path}`);
      expect(stored?.body.equals(content)).toBe(true);
      // One PUT: the sha256 metadata; multipart: S3's composite checksum of the chunks vouches instead.
      expect(stored?.metadata).toEqual(file.size <= CHUNK ? { sha256: sha(content) } : {});
      expect(outcomes.find((o) => o.path === file.path)).toMatchObject({ how: "uploaded", sha256: sha(content), chunks: chunksOf(content) });
    }
  });

  it("an unchanged re-run with the hash cache reads nothing; without it, each file once, and uploads nothing", async () => {
    const { list } = weights();
    const transfer = new FakeTransfer();
    const cacheFile = path.join(dir, `hashes-${Date.now()}.json`);
    const first = await loadHashCache(cacheFile);
    await run(transfer, list, { hashCache: first });
    await first.save();
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);

    const cached = counting();
    const again = await run(transfer, list, { open: cached.open, hashCache: await loadHashCache(cacheFile) });
    expect(again.every((o) => o.how === "skipped")).toBe(true);
    expect(cached.total()).toBe(0);

    const uncached = counting();
    transfer.calls.length = 0;
    const cold = await run(transfer, list, { open: uncached.open });
    expect(cold.every((o) => o.how === "skipped")).toBe(true);
    for (const file of list) expect(uncached.read(file)).toBe(file.size);
    expect(transfer.calls.filter((c) => !/^(head|list) /.test(c))).toEqual([]);
  });

  it("a file rewritten in place misses the cache and is uploaded with its new hash", async () => {
    const { list } = weights();
    const transfer = new FakeTransfer();
    const cacheFile = path.join(dir, `hashes-changed-${Date.now()}.json`);
    const cache = await loadHashCache(cacheFile);
    await run(transfer, list, { hashCache: cache });
    await cache.save();
    const changed = list.find((f) => f.path === "tokenizer.json")!;
    const fresh = randomBytes(changed.size);
    writeFileSync(changed.absolutePath, fresh);
    const outcomes = await run(transfer, list, { hashCache: await loadHashCache(cacheFile) });
    expect(outcomes.map((o) => [o.path, o.how])).toEqual([["config.json", "skipped"], ["tokenizer.json", "uploaded"], ["model.safetensors", "skipped"]]);
    const stored = transfer.objects.get("m/tokenizer.json");
    expect({ same: stored?.body.equals(fresh), metadata: stored?.metadata }).toEqual({ same: true, metadata: { sha256: sha(fresh) } });
    const big = list.find((f) => f.path === "model.safetensors")!;
    writeFileSync(big.absolutePath, randomBytes(big.size)); // multipart, hash known from nowhere: sent while hashed
    const again = await run(transfer, list, { hashCache: await loadHashCache(cacheFile) });
    expect(again.find((o) => o.path === "model.safetensors")?.how).toBe("uploaded");
  });
});
