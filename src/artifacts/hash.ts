import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";

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

/**
 * A pass-through that hashes what flows to S3. The metadata sha256 is computed before the upload
 * (S3 needs it up front); hashing the bytes actually sent proves the file did not change in between.
 */
export class HashingPassThrough extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    callback(null, chunk);
  }

  /** Valid once the stream has ended. */
  result(): { sha256: string; size: number } {
    return { sha256: this.hash.copy().digest("hex"), size: this.bytes };
  }
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
