import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { landSpan } from "../../../src/worker/weights/chunk-io.js";
import { HashWriters } from "../../../src/worker/weights/hash-writers.js";

const root = mkdtempSync(path.join(tmpdir(), "synkti-chunk-io-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
async function* pieces(...parts: Buffer[]) {
  yield* parts;
}

/** A file of `size` bytes of 0xee (what was there before), and landSpan's outcome on it. */
async function land(threads: number, size: number, start: number, ends: number[], body: AsyncIterable<Uint8Array>, refuse?: number) {
  const file = path.join(root, `f-${threads}-${Math.random()}`);
  writeFileSync(file, Buffer.alloc(size, 0xee));
  const writers = new HashWriters(threads);
  const handle = await open(file, "r+");
  const seen: Array<[number, string]> = [];
  let outcome: number | Error;
  try {
    outcome = await landSpan(handle, writers, start, ends, body, (k, digest) => {
      if (k === refuse) throw new Error(`chunk ${k} refused`);
      seen.push([k, digest]);
    });
  } catch (error) {
    outcome = error as Error;
  } finally {
    await handle.close();
    await writers.close();
  }
  return { outcome, seen, onDisk: readFileSync(file) };
}

describe.each([0, 2])("one GET's body split at chunk boundaries (%i hashing threads)", (threads) => {
  it("hands over each chunk's SHA-256 in order, once its bytes are in place, whatever the piece boundaries", async () => {
    const bytes = randomBytes(300);
    const { outcome, seen, onDisk } = await land(threads, 400, 50, [150, 250, 350], pieces(bytes.subarray(0, 70), bytes.subarray(70, 230), bytes.subarray(230)));
    expect(outcome).toBe(3);
    expect(seen).toEqual([
      [0, sha(bytes.subarray(0, 100))],
      [1, sha(bytes.subarray(100, 200))],
      [2, sha(bytes.subarray(200))],
    ]);
    expect(onDisk.subarray(50, 350).equals(bytes)).toBe(true);
    expect(onDisk.subarray(350).equals(Buffer.alloc(50, 0xee))).toBe(true);
  });

  it("refuses a body longer than the range before a byte past it is written (it would overwrite verified chunks)", async () => {
    const { outcome, onDisk } = await land(threads, 400, 0, [100, 200], pieces(randomBytes(150), randomBytes(100)));
    expect((outcome as Error).message).toMatch(/ran past the 200 bytes asked for/);
    expect(onDisk.subarray(200).equals(Buffer.alloc(200, 0xee))).toBe(true);
  });

  it("a chunk refused stops the GET there: nothing after it is written, the chunks before it stay", async () => {
    const bytes = randomBytes(300);
    const { outcome, seen, onDisk } = await land(threads, 300, 0, [100, 200, 300], pieces(bytes), 1);
    expect((outcome as Error).message).toBe("chunk 1 refused");
    expect(seen.map(([k]) => k)).toEqual([0]);
    expect(onDisk.subarray(0, 100).equals(bytes.subarray(0, 100))).toBe(true);
    expect(onDisk.subarray(200).equals(Buffer.alloc(100, 0xee))).toBe(true);
  });

  it("a body that ends early completes only the chunks it brought whole", async () => {
    const bytes = randomBytes(150);
    const { outcome, seen } = await land(threads, 300, 0, [100, 200, 300], pieces(bytes));
    expect(outcome).toBe(1);
    expect(seen).toEqual([[0, sha(bytes.subarray(0, 100))]]);
  });
});
