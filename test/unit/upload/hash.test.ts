import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, describe, expect, it } from "vitest";
import { parseSha256sumLine, sha256OfFile, sha256OfStream, sha256sumLine } from "../../../src/artifacts/hash.js";

const dir = mkdtempSync(path.join(tmpdir(), "synkti-hash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hex = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("hashing", () => {
  it("hashes a multi-chunk file by streaming", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const file = path.join(dir, "f");
    writeFileSync(file, bytes);
    await expect(sha256OfFile(file)).resolves.toEqual({ sha256: hex(bytes), size: bytes.length });
  });

  it("stops when aborted", async () => {
    const file = path.join(dir, "g");
    writeFileSync(file, randomBytes(1024));
    await expect(sha256OfFile(file, AbortSignal.abort(new Error("ctrl-c")))).rejects.toThrow();
  });

  it("hashes a stream of pieces as the bytes they make up", async () => {
    const bytes = randomBytes(100_000);
    expect(await sha256OfStream(Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]))).toEqual({ sha256: hex(bytes), size: bytes.length });
  });

  it("writes and reads sha256sum's format", () => {
    const line = sha256sumLine("a".repeat(64), "synkti");
    expect(line).toBe(`${"a".repeat(64)}  synkti\n`);
    expect(parseSha256sumLine(line)).toEqual({ sha256: "a".repeat(64), name: "synkti" });
    expect(parseSha256sumLine(`${"b".repeat(64)} *synkti`)).toEqual({ sha256: "b".repeat(64), name: "synkti" });
    expect(parseSha256sumLine("garbage")).toBeUndefined();
  });
});
