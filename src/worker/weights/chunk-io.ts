import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { HashWriters } from "./hash-writers.js";

/**
 * The two ways a chunk's bytes pass through the worker, each exactly once: from a ranged GET
 * of one or more consecutive chunks (split at chunk boundaries, each chunk hashed as it streams
 * and written where it belongs, no second read) or, on a resume, from what is already on disk
 * (read and hashed). Positioned writes, so chunks of one file land in any order
 * into the preallocated file.
 */

const READ_BATCH = 4 << 20;

export interface Landed {
  sha256: string;
  bytes: number;
}

const NOTHING = new Uint8Array(0);

/**
 * Writes `body` at [start, ends[ends.length - 1]) while hashing it chunk by chunk (both on a
 * hashing thread: hash-writers.ts): `ends` are the file offsets where each chunk of the GET ends.
 * When a chunk's last byte is hashed and written, `onChunk(k, sha256)` is called (k-th chunk of
 * the GET, in order); it throws to refuse the chunk, which stops the GET there. Returns how many
 * chunks were completed (fewer than `ends.length` when the body ended early). A body longer than
 * asked for (a server or proxy that ignored the Range and sent the whole object) is refused before
 * its first byte past the range is written: written, it would overwrite chunks already verified,
 * after their check. `onBytes` hears every byte as it arrives, before its chunk is complete.
 */
export async function landSpan(
  handle: FileHandle,
  writers: HashWriters,
  start: number,
  ends: readonly number[],
  body: AsyncIterable<Uint8Array>,
  onChunk: (k: number, sha256: string) => void,
  signal?: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<number> {
  const end = ends[ends.length - 1] ?? start;
  const sink = writers.sink(handle.fd, start);
  let k = 0;
  let chunkEnd = ends[0] ?? start;
  let received = start; // file offset of the next byte to arrive
  try {
    for await (const bytes of body) {
      signal?.throwIfAborted();
      if (received + bytes.byteLength > end) throw new Error(`the answer ran past the ${end - start} bytes asked for (a server that ignored the range?)`);
      let piece = bytes;
      while (piece.byteLength > 0) {
        const take = Math.min(piece.byteLength, chunkEnd - received);
        const part = take === piece.byteLength ? piece : piece.subarray(0, take);
        piece = take === piece.byteLength ? NOTHING : piece.subarray(take);
        const caughtUp = sink.write(part);
        if (caughtUp) await caughtUp;
        received += take;
        onBytes?.(take);
        if (received === chunkEnd) {
          onChunk(k, await sink.endChunk()); // hashed and on disk before it counts as verified
          k += 1;
          chunkEnd = ends[k] ?? end;
        }
      }
    }
    return k;
  } finally {
    await sink.close(); // no write may outlive the descriptor
  }
}

/** SHA-256 of bytes [start, end) as they are on disk (a resume's check); short when the file is. */
export async function hashOnDisk(handle: FileHandle, start: number, end: number, signal?: AbortSignal): Promise<Landed> {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(Math.min(READ_BATCH, Math.max(1, end - start)));
  let position = start;
  while (position < end) {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.byteLength, end - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return { sha256: hash.digest("hex"), bytes: position - start };
}

const OPEN_FLAGS = { r: constants.O_RDONLY, "r+": constants.O_RDWR, w: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC } as const;

/** Opens the file for one step and always closes it; a link in its place is refused (ELOOP), never followed. */
export async function withFile<T>(file: string, flags: keyof typeof OPEN_FLAGS, work: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await open(file, OPEN_FLAGS[flags] | (constants.O_NOFOLLOW ?? 0), 0o644);
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}
