import { lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";

/**
 * synkti's per-user cache folder: `$XDG_CACHE_HOME/synkti`, else `~/.cache/synkti`. It holds what
 * is only worth remembering to save time (the context verdict of this boot, file hashes of
 * uploads): losing it costs a slower run, never a wrong one, so every failure here is swallowed.
 */
export function userCacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME?.trim();
  // The XDG spec says a relative value is invalid and must be ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), ".cache");
  return path.join(base, "synkti");
}

/**
 * A cache file's text, or undefined when it is absent or not trustworthy: it must be a regular
 * file (not a symlink planted elsewhere) owned by this user and writable by nobody else, since its
 * content steers what synkti decides.
 */
export async function readCacheFile(file: string): Promise<string | undefined> {
  try {
    const info = await lstat(file);
    if (!info.isFile() || (info.mode & 0o022) !== 0) return undefined;
    if (typeof process.getuid === "function" && info.uid !== process.getuid()) return undefined;
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Replaces a cache file atomically (a temporary file, then rename: readers never see half a file),
 * mode 0600 in a folder created 0700. Returns false instead of throwing: a read-only home or a full
 * disk must not fail the command that merely wanted to remember something.
 */
export async function writeCacheFile(file: string, text: string): Promise<boolean> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(temporary, text, { mode: 0o600, flag: "wx" });
    await rename(temporary, file);
    return true;
  } catch {
    await rm(temporary, { force: true }).catch(() => undefined);
    return false;
  }
}
