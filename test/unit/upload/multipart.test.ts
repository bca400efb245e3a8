/**
 * synkti's multipart writer against the in-memory S3 (fake-transfer.ts): what a user would notice
 * is whether the object is right, whether anything stays billed after a failure or Ctrl-C, and
 * how much memory an upload takes.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChunkHasher } from "../../../src/artifacts/chunks.js";
import { Semaphore } from "../../../src/core/semaphore.js";
import { silentLogger } from "../../../src/core/log.js";
import { uploadFiles } from "../../../src/deployer/upload/file-batch.js";
import { openFile } from "../../../src/deployer/upload/local-read.js";
import { PartBuffers } from "../../../src/deployer/upload/part-buffers.js";
import { putFile, putFileHashing, type PutFileContext } from "../../../src/deployer/upload/put-file.js";
import { FakeTransfer } from "./fake-transfer.js";

const KiB = 1024;
const PART = 1024 * KiB; // the smallest part size partSizeFor gives (S3 wants 5 MiB; the fake does not)
const dir = mkdtempSync(path.join(tmpdir(), "synkti-multipart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function file(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const at = path.join(dir, name);
  writeFileSync(at, bytes);
  return { path: at, bytes };
}

function context(transfer: FakeTransfer, concurrency: number, extra: Partial<PutFileContext> = {}): PutFileContext & { buffers: PartBuffers } {
  return { transfer, log: silentLogger, slots: new Semaphore(concurrency), buffers: new PartBuffers(concurrency, PART), partSize: PART, ...extra };
}

const request = (key: string, f: { path: string; bytes: Buffer }) => ({ bucket: "b", key, file: f.path, size: f.bytes.length, chunkSize: PART });

describe("the multipart writer", () => {
  it("sends each part with its chunk's SHA-256; S3's composite checksum is that of the manifest chunks", async () => {
    const f = file("chunks.bin", 5 * PART + 123);
    const transfer = new FakeTransfer();
    const sent = await putFileHashing(context(transfer, 3), { ...request("m/chunks.bin", f), metadata: (s) => ({ sha256: s }) });
    const expected = new ChunkHasher(PART).update(f.bytes).digest();
    expect(sent).toEqual(expected);
    const stored = transfer.objects.get("m/chunks.bin")!;
    expect(stored.body.equals(f.bytes)).toBe(true);
    const composite = createHash("sha256").update(Buffer.concat(expected.chunks.map((c) => Buffer.from(c, "hex")))).digest("base64");
    expect(stored.checksumSha256).toBe(`${composite}-6`);
    expect(transfer.uploads.size).toBe(0);
  });

  it("an empty file goes up as an empty object with its SHA-256 (one PUT, nothing to read)", async () => {
    const f = file("empty.txt", 0);
    const transfer = new FakeTransfer();
    const sent = await putFileHashing(context(transfer, 2), { ...request("m/empty.txt", f), metadata: (s) => ({ sha256: s }) });
    expect(sent).toEqual({ size: 0, sha256: sha(Buffer.alloc(0)), chunks: [] });
    expect(transfer.objects.get("m/empty.txt")).toMatchObject({ body: Buffer.alloc(0), metadata: { sha256: sha(Buffer.alloc(0)) } });
  });

  it("memory stays at one part buffer per request slot, however many parts and files are in flight", async () => {
    const files = [file("m1.bin", 12 * PART), file("m2.bin", 9 * PART + 7), file("s1.bin", 100), file("s2.bin", PART), file("m3.bin", 7 * PART)];
    const transfer = new FakeTransfer();
    transfer.delayMs = 3; // the fake copies a part only after its delay: a buffer reused meanwhile would fail its SHA-256
    const ctx = context(transfer, 3);
    await Promise.all(files.map((f, i) => putFile(ctx, { ...request(`m/${i}`, f), sha256: sha(f.bytes), metadata: {} })));
    expect(ctx.buffers.allocated).toBeLessThanOrEqual(3);
    expect(transfer.peakInFlight).toBeLessThanOrEqual(3);
    files.forEach((f, i) => expect(transfer.objects.get(`m/${i}`)?.body.equals(f.bytes)).toBe(true));
  });

  it("a part S3 refuses fails the upload with that error and aborts it: no parts stay billed", async () => {
    const f = file("refused.bin", 6 * PART);
    const transfer = new FakeTransfer();
    transfer.failKeys.add("m/refused.bin");
    await expect(putFile(context(transfer, 2), { ...request("m/refused.bin", f), sha256: sha(f.bytes), metadata: {} })).rejects.toThrow("injected failure for m/refused.bin");
    expect(await transfer.listIncompleteUploads("b", "m/")).toEqual([]);
    expect(transfer.calls).toContain("abort m/refused.bin");
    expect(transfer.objects.has("m/refused.bin")).toBe(false);
  });

  it("a file that is shorter or longer than when it was listed is refused, the upload aborted, the object in S3 kept", async () => {
    for (const [name, listedSize] of [["shrank.bin", 6 * PART], ["grew.bin", 3 * PART]] as const) {
      const f = file(name, 4 * PART + 10);
      const transfer = new FakeTransfer();
      const before = { body: Buffer.from("old"), metadata: {} };
      transfer.objects.set(`m/${name}`, before);
      const error = await putFileHashing(context(transfer, 2), { ...request(`m/${name}`, f), size: listedSize, metadata: () => ({}) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "file-changed-during-upload", remedy: expect.stringContaining("run the same upload command again") });
      expect((error as Error).message).toContain("nothing of it was stored in S3");
      expect(transfer.uploads.size).toBe(0);
      expect(transfer.objects.get(`m/${name}`)).toBe(before);
      expect(transfer.calls.filter((c) => c.startsWith("complete"))).toEqual([]);
    }
  });

  it("bytes that differ from the hash taken before are never assembled: the upload is aborted before CompleteMultipartUpload", async () => {
    const f = file("changed.bin", 3 * PART);
    const transfer = new FakeTransfer();
    const error = await putFile(context(transfer, 2), { ...request("m/changed.bin", f), sha256: "0".repeat(64), metadata: { sha256: "0".repeat(64) } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "file-changed-during-upload" });
    expect(transfer.objects.has("m/changed.bin")).toBe(false);
    expect(transfer.uploads.size).toBe(0);
    expect(transfer.calls.at(-1)).toBe("abort m/changed.bin");
  });

  it("Ctrl-C mid-upload: the parts in flight end, then the upload is aborted; nothing is completed", async () => {
    const f = file("ctrl-c.bin", 10 * PART);
    const transfer = new FakeTransfer();
    transfer.delayMs = 5;
    const controller = new AbortController();
    const ctx = context(transfer, 2, { signal: controller.signal, onProgress: () => controller.abort(new Error("ctrl-c")) });
    await expect(putFile(ctx, { ...request("m/ctrl-c.bin", f), sha256: sha(f.bytes), metadata: {} })).rejects.toThrow();
    expect(transfer.uploads.size).toBe(0);
    expect(transfer.inFlight).toBe(0);
    expect(transfer.calls.at(-1)).toBe("abort m/ctrl-c.bin");
    expect(transfer.calls.filter((c) => c.startsWith("part")).length).toBeLessThan(10);
    expect(transfer.objects.has("m/ctrl-c.bin")).toBe(false);
  });
});

describe("the order files go up in", () => {
  it("a larger file that fails before its turn does not leave the smaller ones waiting: the batch fails with its error", async () => {
    const big = file("vanishes.bin", 5 * PART);
    const small = file("waits.json", 100);
    const list = [
      { path: "vanishes.bin", absolutePath: big.path, size: big.bytes.length },
      { path: "waits.json", absolutePath: small.path, size: 100 },
    ];
    const transfer = new FakeTransfer();
    // S3 holds an object of the big file's size: it is hashed before its turn, and is gone by then.
    transfer.objects.set("m/vanishes.bin", { body: Buffer.alloc(big.bytes.length), metadata: {} });
    const open = async (at: string) => {
      if (at === big.path) {
        await new Promise((resolve) => setTimeout(resolve, 50)); // the small file is waiting for its turn by then
        throw Object.assign(new Error(`ENOENT: ${at}`), { code: "ENOENT" });
      }
      return openFile(at);
    };
    const error = await uploadFiles({ transfer, log: silentLogger, concurrency: 2, chunkSize: PART, open }, { bucket: "b", prefix: "m/", files: list }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "weights-changed" });
    expect(transfer.objects.has("m/waits.json")).toBe(false);
  });

  it("largest first: each file starts once the one before has all its requests under way", async () => {
    const sizes = { "small.json": 100, "big.bin": 8 * PART, "medium.bin": 3 * PART, "tiny.json": 10 };
    const list = Object.entries(sizes).map(([name, size]) => ({ path: name, absolutePath: file(name, size).path, size }));
    const transfer = new FakeTransfer();
    transfer.delayMs = 2;
    await uploadFiles({ transfer, log: silentLogger, concurrency: 2, chunkSize: PART }, { bucket: "b", prefix: "m/", files: list });
    const firstData = (key: string) => transfer.calls.findIndex((c) => /^(put|create) /.test(c) && c.endsWith(` m/${key}`));
    const order = ["big.bin", "medium.bin", "small.json", "tiny.json"].map(firstData);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The next file starts when the big one's last part has its slot: after all the others went.
    expect(firstData("medium.bin")).toBeGreaterThan(transfer.calls.indexOf("part m/big.bin 7"));
  });
});
