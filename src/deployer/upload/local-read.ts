import { open } from "node:fs/promises";
import { ChunkHasher, CHUNK_SIZE, type ChunkedDigest } from "../../artifacts/chunks.js";

/**
 * How the uploader reads local bytes: positional reads into buffers it owns (no stream, no
 * per-read allocation, no copy into parts). The only way src/deployer/upload reads a weight byte,
 * so a test that wraps the opener counts every byte read (each is read once).
 */
export interface LocalFileHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

export type OpenFile = (file: string) => Promise<LocalFileHandle>;

export const openFile: OpenFile = async (file) => {
  const handle = await open(file, "r");
  return { read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position), close: () => handle.close() };
};

/** Reads `length` bytes at `position` into the start of `into`; fewer only when the file ends first. */
export async function readFully(handle: LocalFileHandle, into: Uint8Array, length: number, position: number, signal?: AbortSignal): Promise<number> {
  let done = 0;
  while (done < length) {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(into, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Whether the file holds bytes past `size`: it grew since it was listed. Reads at most one byte. */
export async function grewPast(handle: LocalFileHandle, size: number): Promise<boolean> {
  const { bytesRead } = await handle.read(Buffer.allocUnsafe(1), 0, 1, size);
  return bytesRead > 0;
}

/** Runs `work` with the file open, closing it whatever happens. */
export async function withFile<T>(openAt: OpenFile, file: string, work: (handle: LocalFileHandle) => Promise<T>): Promise<T> {
  const handle = await openAt(file);
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

const HASH_READ = 4 * 2 ** 20;

/** The file's SHA-256, whole and per chunk, read once (to compare with S3 before deciding to send). */
export function digestOfFile(openAt: OpenFile, file: string, chunkSize: number = CHUNK_SIZE, signal?: AbortSignal): Promise<ChunkedDigest> {
  return withFile(openAt, file, async (handle) => {
    const hasher = new ChunkHasher(chunkSize);
    const buffer = Buffer.allocUnsafeSlow(HASH_READ);
    for (let position = 0; ; ) {
      const got = await readFully(handle, buffer, HASH_READ, position, signal);
      if (got === 0) return hasher.digest();
      hasher.update(buffer.subarray(0, got));
      position += got;
    }
  });
}
