import type { Stats } from "node:fs";
import path from "node:path";
import { chunkCount, type ChunkedDigest } from "../../artifacts/chunks.js";
import { readCacheFile, userCacheDir, writeCacheFile } from "../../core/user-cache.js";

/**
 * The SHA-256s (whole file and per chunk) of local weight files this user already hashed, so an
 * unchanged re-run of `synkti upload model` reads no weight byte: it compares the remembered hash
 * with the object's sha256 metadata from a HEAD. An entry holds for the same absolute path, size and
 * modification time; the inode and change time are checked too, since every write, copy or `mv`
 * changes them (`touch -d` or `cp -p` can put an old mtime back, never an old ctime). A miss costs
 * one read of the file, which the upload does anyway. Kept in `<user cache dir>/upload-hashes.json`
 * (mode 0600); the most recently used entries are kept.
 */
const HASH_CACHE_FILE = "upload-hashes.json";
const MAX_ENTRIES = 20_000;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

interface Entry extends FileIdentity {
  chunkSize: number;
  sha256: string;
  chunks: string[];
  usedAt: number;
}

export interface HashCache {
  /** The remembered digest of `file` when it is unchanged and was hashed with `chunkSize`. */
  get(file: string, identity: FileIdentity, chunkSize: number): ChunkedDigest | undefined;
  put(file: string, identity: FileIdentity, chunkSize: number, digest: ChunkedDigest): void;
  /** Writes the entries back (merged with what another run wrote meanwhile); never throws. */
  save(): Promise<void>;
}

export function identityOf(stats: Stats): FileIdentity {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

export function hashCacheFile(env: NodeJS.ProcessEnv): string {
  return path.join(userCacheDir(env), HASH_CACHE_FILE);
}

/** A cache that remembers nothing: library callers and tests that do not pass a file. */
export const noHashCache: HashCache = { get: () => undefined, put: () => undefined, save: async () => undefined };

export async function loadHashCache(file: string, now: () => number = Date.now): Promise<HashCache> {
  const entries = await readEntries(file);
  const changed = new Map<string, Entry>();
  const same = (e: Entry, id: FileIdentity) => e.size === id.size && e.mtimeMs === id.mtimeMs && e.ctimeMs === id.ctimeMs && e.ino === id.ino;
  return {
    get(absolute, identity, chunkSize) {
      const e = changed.get(absolute) ?? entries.get(absolute);
      if (!e || !same(e, identity) || e.chunkSize !== chunkSize) return undefined;
      changed.set(absolute, { ...e, usedAt: now() });
      return { size: e.size, sha256: e.sha256, chunks: [...e.chunks] };
    },
    put(absolute, identity, chunkSize, digest) {
      if (digest.size !== identity.size) return; // the file changed while it was read: remember nothing
      changed.set(absolute, { ...identity, chunkSize, sha256: digest.sha256, chunks: [...digest.chunks], usedAt: now() });
    },
    async save() {
      if (changed.size === 0) return;
      const merged = await readEntries(file);
      for (const [key, entry] of changed) merged.set(key, entry);
      const kept = [...merged].sort((a, b) => b[1].usedAt - a[1].usedAt).slice(0, MAX_ENTRIES);
      await writeCacheFile(file, JSON.stringify({ version: 1, entries: Object.fromEntries(kept) }));
    },
  };
}

async function readEntries(file: string): Promise<Map<string, Entry>> {
  const text = await readCacheFile(file);
  const entries = new Map<string, Entry>();
  if (text === undefined) return entries;
  try {
    const parsed = JSON.parse(text) as { entries?: Record<string, unknown> };
    for (const [key, value] of Object.entries(parsed.entries ?? {})) if (isEntry(value)) entries.set(key, value);
  } catch {
    // A damaged file costs one hashing pass; the next save replaces it.
  }
  return entries;
}

function isEntry(value: unknown): value is Entry {
  const e = value as Partial<Entry> | null;
  const numbers = [e?.size, e?.mtimeMs, e?.ctimeMs, e?.ino, e?.usedAt];
  return (
    typeof e === "object" && e !== null &&
    numbers.every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0) &&
    typeof e.sha256 === "string" && SHA256_HEX.test(e.sha256) &&
    Array.isArray(e.chunks) && e.chunks.every((c) => typeof c === "string" && SHA256_HEX.test(c)) &&
    Number.isInteger(e.chunkSize) && (e.chunkSize ?? 0) > 0 &&
    e.chunks.length === chunkCount(e.size ?? 0, e.chunkSize)
  );
}
