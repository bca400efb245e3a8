import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * SHA-256 by streaming, never by loading a file: weights are many GB. Read chunks of 1 MiB keep
 * syscalls few without holding more than that in memory per file.
 */
const READ_CHUNK = 1 << 20;

export async function sha256OfStream(chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}

export function sha256OfFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  // The stream's own signal stops the read at once; the loop's check covers the last chunk.
  return sha256OfStream(createReadStream(file, { highWaterMark: READ_CHUNK, ...(signal ? { signal } : {}) }), signal);
}

export function sha256OfBytes(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** `sha256sum` output format: "<hex>  <name>\n" (two spaces: binary-mode marker is a space). */
export function sha256sumLine(sha256: string, name: string): string {
  return `${sha256}  ${name}\n`;
}

/** Parses the first line of a `sha256sum` file; undefined when it is not one. */
export function parseSha256sumLine(text: string): { sha256: string; name: string } | undefined {
  const match = /^([0-9a-f]{64}) [ *](.+)$/m.exec(text.trim());
  return match ? { sha256: match[1] as string, name: (match[2] as string).trim() } : undefined;
}
