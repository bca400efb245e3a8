import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HashWriters } from "../../../src/worker/weights/hash-writers.js";

const MiB = 2 ** 20;
const root = mkdtempSync(path.join(tmpdir(), "synkti-hash-writers-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Pieces of uneven sizes, as a socket hands them over. */
function* pieces(bytes: Buffer): Generator<Buffer> {
  for (let at = 0, n = 1; at < bytes.byteLength; n = (n * 7919) % 100_003) {
    const size = Math.min(bytes.byteLength - at, 1 + (n % (96 * 1024)));
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

describe.each([
  ["on hashing threads", 2],
  ["on the main thread (no core to spare)", 0],
])("each chunk's SHA-256 and its bytes in place, %s", (_, threads) => {
  it("gives every chunk's SHA-256 and leaves the bytes where they belong, whatever the piece sizes", async () => {
    const writers = new HashWriters(threads);
    try {
      const bytes = randomBytes(3 * MiB + 4321);
      const ends = [MiB + 17, 2 * MiB + 300_000, bytes.byteLength]; // chunks that do not line up with the batches
      const file = path.join(root, `w-${threads}`);
      writeFileSync(file, Buffer.alloc(100 + bytes.byteLength));
      const handle = await open(file, "r+");
      const digests: string[] = [];
      try {
        const sink = writers.sink(handle.fd, 100);
        try {
          let received = 0;
          let k = 0;
          for (const piece of pieces(bytes)) {
            let rest = piece;
            while (rest.byteLength > 0) {
              const take = Math.min(rest.byteLength, ends[k]! - received);
              const wait = sink.write(rest.subarray(0, take));
              if (wait) await wait;
              received += take;
              rest = rest.subarray(take);
              if (received === ends[k]) {
                digests.push(await sink.endChunk());
                k += 1;
              }
            }
          }
        } finally {
          await sink.close();
        }
      } finally {
        await handle.close();
      }
      expect(digests).toEqual([sha(bytes.subarray(0, ends[0])), sha(bytes.subarray(ends[0], ends[1])), sha(bytes.subarray(ends[1]))]);
      const onDisk = readFileSync(file);
      expect(onDisk.subarray(0, 100).equals(Buffer.alloc(100))).toBe(true);
      expect(onDisk.subarray(100).equals(bytes)).toBe(true);
    } finally {
      await writers.close();
    }
  });

  it("a write the disk refuses fails the chunk with the system's code (the fetch says it as a disk error)", async () => {
    const writers = new HashWriters(threads);
    const file = path.join(root, `ro-${threads}`);
    writeFileSync(file, "");
    const handle = await open(file, "r"); // not writable: EBADF on write
    try {
      const sink = writers.sink(handle.fd, 0);
      const error = await (async () => {
        try {
          const wait = sink.write(randomBytes(2 * MiB + 1));
          if (wait) await wait;
          await sink.endChunk();
        } catch (e) {
          return e as { code?: string; syscall?: string };
        } finally {
          await sink.close();
        }
        return undefined;
      })();
      expect(error).toMatchObject({ code: "EBADF", syscall: "write" });
    } finally {
      await handle.close();
      await writers.close();
    }
  });
});

describe("how many hashing threads", () => {
  it("the cores beyond the HTTP thread's and the kernel's, at most 4: none on 2 cores, 2 on a 4-vCPU GPU instance", async () => {
    const { defaultHashThreads } = await import("../../../src/worker/weights/hash-writers.js");
    expect([1, 2, 3, 4, 8, 96].map((cores) => defaultHashThreads(cores))).toEqual([0, 0, 1, 2, 4, 4]);
  });
});
