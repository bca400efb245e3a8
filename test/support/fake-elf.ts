/**
 * Fake linux-x64 builds for upload tests: the smallest file that passes synkti's ELF checks (a
 * 64-bit little-endian x86-64 executable whose one loadable, executable segment maps the whole
 * file and holds the entry point), with synkti's version marker inside unless told otherwise.
 *
 * Behaviour spec:
 * - `fakeBuild({ version, size, marker })` returns the bytes. `version` (default 1.2.3) goes into
 *   the marker; `marker: false` leaves it out; `size` pads the file with random bytes (default
 *   4 KiB; the marker is near the end, as the SEA blob is in a real build).
 * - The header fields are what a real build has (ELF version 1, 64-byte header, 56-byte program
 *   headers right after it); `elfHeader()` alone is the first 64 bytes, to break on purpose.
 */
import { randomBytes } from "node:crypto";
import { versionMarker } from "../../src/core/version.js";

const BASE = 0x400000n;

export function elfHeader(options: { fileSize: number; phnum?: number; phoff?: number; entry?: bigint }): Buffer {
  const h = Buffer.alloc(64);
  h.write("\x7fELF", 0, "latin1");
  h[4] = 2; // 64-bit
  h[5] = 1; // little-endian
  h[6] = 1; // ELF version
  h[7] = 3; // Linux
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(0x3e, 18); // x86-64
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(options.entry ?? BASE + 0x100n, 24);
  h.writeBigUInt64LE(BigInt(options.phoff ?? 64), 32);
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(56, 54);
  h.writeUInt16LE(options.phnum ?? 1, 56);
  h.writeUInt16LE(64, 58);
  return h;
}

export function loadSegment(options: { fileSize: number; offset?: bigint; fileBytes?: bigint; flags?: number }): Buffer {
  const p = Buffer.alloc(56);
  p.writeUInt32LE(1, 0); // PT_LOAD
  p.writeUInt32LE(options.flags ?? 5, 4); // R+X
  p.writeBigUInt64LE(options.offset ?? 0n, 8);
  p.writeBigUInt64LE(BASE, 16);
  p.writeBigUInt64LE(BASE, 24);
  const bytes = options.fileBytes ?? BigInt(options.fileSize);
  p.writeBigUInt64LE(bytes, 32);
  p.writeBigUInt64LE(bytes, 40);
  p.writeBigUInt64LE(0x1000n, 48);
  return p;
}

export function fakeBuild(options: { version?: string; size?: number; marker?: boolean } = {}): Buffer {
  const size = Math.max(options.size ?? 4096, 1024);
  const marker = options.marker === false ? Buffer.alloc(0) : Buffer.from(versionMarker(options.version ?? "1.2.3"), "latin1");
  const head = Buffer.concat([elfHeader({ fileSize: size }), loadSegment({ fileSize: size })]);
  const padding = randomBytes(size - head.length - marker.length - 16);
  return Buffer.concat([head, padding, marker, Buffer.alloc(16)]);
}
