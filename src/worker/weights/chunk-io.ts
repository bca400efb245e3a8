import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/**
 * The two ways a chunk's bytes pass through the worker, each exactly once: from a ranged GET
 * of one or more consecutive chunks (split at chunk boundaries, each chunk hashed as it streams
 * and written where it belongs, no second read) or, on a resume, from what is already on disk
 * (read and hashed). Positioned writes, so chunks of one file land in any order
 * into the preallocated file.
 */

/** Writes are batched to this size: few syscalls, little memory per chunk in flight. */
const WRITE_BATCH = 1 << 20;
const READ_BATCH = 4 << 20;

export interface Landed {
  sha256: string;
  bytes: number;
}

const NOTHING = new Uint8Array(0);

/**
 * Writes `body` at [start, ends[ends.length - 1]) while hashing it chunk by chunk: `ends` are the
 * file offsets where each chunk of the GET ends. When a chunk's last byte is written,
 * `onChunk(k, sha256)` is called (k-th chunk of the GET, in order); it throws to refuse the chunk,
 * which stops the GET there. Returns how many chunks were completed (fewer than `ends.length` when
 * the body ended early). A body longer than asked for (a server or proxy that ignored the Range and
 * sent the whole object) is refused before its first byte past the range is written: written, it
 * would overwrite chunks already verified, after their check. `onBytes` hears every byte as it is
 * hashed, before its chunk is complete.
 */
export async function landSpan(
  handle: FileHandle,
  start: number,
  ends: readonly number[],
  body: AsyncIterable<Uint8Array>,
  onChunk: (k: number, sha256: string) => void,
  signal?: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<number> {
  const end = ends[ends.length - 1] ?? start;
  let hash = createHash("sha256");
  let k = 0;
  let chunkEnd = ends[0] ?? start;
  let received = start; // file offset of the next byte to arrive
  let position = start; // file offset of the next byte to write
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    // One writev of the pieces as they came (no copy); a short write (rare) finishes piece by piece.
    const pieces = pending;
    const total = pendingBytes;
    pending = [];
    pendingBytes = 0;
    let done = (await handle.writev(pieces, position)).bytesWritten;
    if (done < total) {
      const rest = Buffer.concat(pieces, total).subarray(done);
      for (let at = 0; at < rest.byteLength; ) at += (await handle.write(rest, at, rest.byteLength - at, position + done + at)).bytesWritten;
      done = total;
    }
    position += total;
  };
  for await (const bytes of body) {
    signal?.throwIfAborted();
    if (received + bytes.byteLength > end) throw new Error(`the answer ran past the ${end - start} bytes asked for (a server that ignored the range?)`);
    let piece = bytes;
    while (piece.byteLength > 0) {
      const take = Math.min(piece.byteLength, chunkEnd - received);
      const part = take === piece.byteLength ? piece : piece.subarray(0, take);
      piece = take === piece.byteLength ? NOTHING : piece.subarray(take);
      hash.update(part);
      pending.push(part);
      pendingBytes += take;
      received += take;
      onBytes?.(take);
      if (received === chunkEnd) {
        await flush(); // on disk before it counts as verified
        onChunk(k, hash.digest("hex"));
        k += 1;
        hash = createHash("sha256");
        chunkEnd = ends[k] ?? end;
      } else if (pendingBytes >= WRITE_BATCH) await flush();
    }
  }
  await flush();
  return k;
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
