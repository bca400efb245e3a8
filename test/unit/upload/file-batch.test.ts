import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { uploadFiles } from "../../../src/deployer/upload/file-batch.js";
import type { LocalFile } from "../../../src/deployer/upload/local-files.js";
import { putFile } from "../../../src/deployer/upload/put-file.js";
import { Semaphore } from "../../../src/core/semaphore.js";
import { PartBuffers } from "../../../src/deployer/upload/part-buffers.js";
import { FakeTransfer } from "./fake-transfer.js";

const dir = mkdtempSync(path.join(tmpdir(), "synkti-batch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function files(sizes: Record<string, number>): { list: LocalFile[]; bytes: Map<string, Buffer> } {
  const bytes = new Map<string, Buffer>();
  const list = Object.entries(sizes).map(([name, size]) => {
    const content = randomBytes(size);
    const absolutePath = path.join(dir, name);
    writeFileSync(absolutePath, content);
    bytes.set(name, content);
    return { path: name, absolutePath, size };
  });
  return { list, bytes };
}

const ctx = (transfer: FakeTransfer, extra: Partial<Parameters<typeof uploadFiles>[0]> = {}) => ({ transfer, log: silentLogger, concurrency: 4, ...extra });

describe("uploadFiles", () => {
  it("uploads missing files with their sha256 as metadata and skips those already there", async () => {
    const { list, bytes } = files({ a: 10, b: 20, c: 30 });
    const transfer = new FakeTransfer();
    transfer.objects.set("m/b", { body: bytes.get("b")!, metadata: { sha256: sha(bytes.get("b")!) } });
    transfer.objects.set("m/c", { body: bytes.get("c")!, metadata: {} }); // same bytes, but not vouched for
    let before = 0;
    const outcomes = await uploadFiles(ctx(transfer, { beforeFirstUpload: async () => void before++ }), { bucket: "x", prefix: "m/", files: list });
    expect(outcomes.map((o) => [o.path, o.how])).toEqual([["a", "uploaded"], ["b", "skipped"], ["c", "uploaded"]]);
    expect(transfer.objects.get("m/a")?.metadata).toEqual({ sha256: sha(bytes.get("a")!) });
    expect(before).toBe(1);
  });

  it("with a review, every file is planned first; a refusal leaves S3 untouched", async () => {
    const { list, bytes } = files({ r1: 10, r2: 20, r3: 30 });
    const transfer = new FakeTransfer();
    transfer.objects.set("m/r2", { body: bytes.get("r2")!, metadata: { sha256: sha(bytes.get("r2")!) } });
    let before = 0;
    const seen: string[] = [];
    const refuse = (planned: Array<{ file: { path: string }; decision: { action: string } }>) => {
      seen.push(...planned.map((p) => `${p.file.path}:${p.decision.action}`));
      throw new Error("refused");
    };
    await expect(uploadFiles(ctx(transfer, { review: refuse, beforeFirstUpload: async () => void before++ }), { bucket: "x", prefix: "m/", files: list })).rejects.toThrow("refused");
    expect(seen.sort()).toEqual(["r1:upload", "r2:skip", "r3:upload"]);
    expect(before).toBe(0);
    expect(transfer.calls.filter((c) => !/^(head|list) /.test(c))).toEqual([]);
    const approved = await uploadFiles(ctx(transfer, { review: () => undefined }), { bucket: "x", prefix: "m/", files: list });
    expect(approved.map((o) => [o.path, o.how])).toEqual([["r1", "uploaded"], ["r2", "skipped"], ["r3", "uploaded"]]);
  });

  it("asks S3 once for the whole prefix; a HEAD only for an object of the file's size (the one a skip could keep)", async () => {
    const { list, bytes } = files({ new1: 10, new2: 10, same: 20, resized: 30 });
    const transfer = new FakeTransfer();
    transfer.objects.set("m/same", { body: bytes.get("same")!, metadata: { sha256: sha(bytes.get("same")!) } });
    transfer.objects.set("m/resized", { body: Buffer.alloc(7), metadata: {} });
    const outcomes = await uploadFiles(ctx(transfer), { bucket: "x", prefix: "m/", files: list });
    expect(outcomes.map((o) => [o.path, o.how])).toEqual([["new1", "uploaded"], ["new2", "uploaded"], ["same", "skipped"], ["resized", "uploaded"]]);
    expect(transfer.calls.filter((c) => /^(head|list) /.test(c))).toEqual(["list m/", "head m/same"]);
    expect(transfer.objects.get("m/resized")?.body.equals(bytes.get("resized")!)).toBe(true);
  });

  it("never has more requests in flight than the concurrency", async () => {
    const { list } = files({ f1: 10, f2: 10, f3: 10, f4: 10, f5: 10, f6: 10, big: 3 * 1024 * 1024 });
    const transfer = new FakeTransfer();
    transfer.delayMs = 5;
    await uploadFiles(ctx(transfer, { concurrency: 3, chunkSize: 1024 * 1024 }), { bucket: "x", prefix: "m/", files: list });
    expect(transfer.peakInFlight).toBeLessThanOrEqual(3);
    expect(transfer.objects.size).toBe(7);
  });

  it("fails fast with the first error and not a sibling's abort", async () => {
    const { list } = files({ ok1: 10, bad: 10, ok2: 10 });
    const transfer = new FakeTransfer();
    transfer.failKeys.add("m/bad");
    await expect(uploadFiles(ctx(transfer), { bucket: "x", prefix: "m/", files: list })).rejects.toThrow("injected failure for m/bad");
  });

  it("when aborted from outside, throws without uploading the rest", async () => {
    const { list } = files({ x1: 10, x2: 10 });
    const transfer = new FakeTransfer();
    const controller = new AbortController();
    controller.abort(new Error("ctrl-c"));
    await expect(uploadFiles(ctx(transfer, { signal: controller.signal }), { bucket: "x", prefix: "m/", files: list })).rejects.toThrow("ctrl-c");
    expect(transfer.calls.filter((c) => c.startsWith("upload"))).toEqual([]);
  });
});

describe("putFile", () => {
  it("refuses bytes that do not match the hash taken before: nothing is sent and the object in S3 stays", async () => {
    const { list } = files({ changing: 100 });
    const transfer = new FakeTransfer();
    const file = list[0]!;
    const before = { body: Buffer.from("what S3 held"), metadata: { sha256: "1".repeat(64) } };
    transfer.objects.set("m/changing", before);
    const request = { bucket: "x", key: "m/changing", file: file.absolutePath, size: 100, sha256: "0".repeat(64), metadata: {} };
    await expect(putFile({ transfer, log: silentLogger, slots: new Semaphore(2), buffers: new PartBuffers(2, 64) }, request)).rejects.toMatchObject({ code: "file-changed-during-upload" });
    expect(transfer.objects.get("m/changing")).toBe(before);
    expect(transfer.calls).toEqual([]);
  });
});
