import { chmod, lstat, mkdir, rm, statfs } from "node:fs/promises";
import path from "node:path";
import { LOCAL_MANIFEST } from "./targets.js";

/**
 * The model folder as the fetch leaves it for the model server. The agent writes as root; vLLM
 * reads as synkti-model (src/worker/model-server/run-as.ts) and must never write: folders 0755 and
 * files 0644 whatever the agent's umask (an agent started with umask 077 left weights vLLM could
 * not open), owned by the agent, so nothing the model server does can change them or plant a link.
 */
const FOLDER_MODE = 0o755;
export const FILE_MODE = 0o644;

/**
 * Before any file is touched: the local manifest (the mark of a complete, verified folder) is
 * removed, so a fetch that stops midway never leaves preallocated files of the right size behind
 * a mark that preflight would believe; the model folder and every folder the manifest's files go
 * into are real folders, made one at a time, parents first (a link or a file in the way is
 * removed, never followed: a folder link `sub -> /etc` would otherwise have the agent write
 * `sub/config.json` as root into /etc).
 */
export async function prepareModelFolder(modelDir: string, fileAbsolutes: readonly string[]): Promise<void> {
  const root = path.resolve(modelDir);
  const first = await mkdir(root, { recursive: true, mode: FOLDER_MODE });
  await rm(path.join(root, LOCAL_MANIFEST), { force: true });
  // The folders mkdir just made above the model folder (such as /models), and the model folder.
  const made = first === undefined ? [] : createdAbove(path.resolve(first), root);
  for (const folder of [...made, root]) await chmod(folder, FOLDER_MODE);
  for (const folder of foldersBelow(root, fileAbsolutes)) await realFolder(folder);
}

/** The folders from `first` (the first one mkdir created) down to the parent of `root`. */
function createdAbove(first: string, root: string): string[] {
  const chain: string[] = [];
  for (let at = path.dirname(root); at.length >= first.length && at !== path.dirname(at); at = path.dirname(at)) chain.unshift(at);
  return chain;
}

/** Every folder between `root` and the files, parents before children. */
function foldersBelow(root: string, files: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const file of files) {
    for (let at = path.dirname(file); at !== root && at.startsWith(`${root}${path.sep}`); at = path.dirname(at)) folders.add(at);
  }
  return [...folders].sort((a, b) => a.split(path.sep).length - b.split(path.sep).length || a.localeCompare(b));
}

async function realFolder(folder: string): Promise<void> {
  const seen = await lstat(folder).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : Promise.reject(error)));
  if (seen?.isDirectory()) {
    if ((seen.mode & 0o777) !== FOLDER_MODE) await chmod(folder, FOLDER_MODE);
    return;
  }
  if (seen) await rm(folder, { force: true, recursive: true }); // a link (removed, not followed) or a file
  await mkdir(folder, { mode: FOLDER_MODE });
  await chmod(folder, FOLDER_MODE);
}

/** Free bytes for an unprivileged writer on the file system of `dir` (statfs). */
export async function freeBytesOf(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

/**
 * What the files still need on disk: their sizes less the blocks already allocated (a resume's
 * chunks; a preallocated file is sparse, so its size alone says nothing). Checked before the
 * first GET: a disk too small (an instance store smaller than the model) is said in a second,
 * not after minutes of download as ENOSPC mid-chunk.
 */
export async function bytesStillNeeded(files: ReadonlyArray<{ absolute: string; size: number }>): Promise<number> {
  let needed = 0;
  for (const { absolute, size } of files) {
    const seen = await lstat(absolute).catch(() => undefined);
    const allocated = seen?.isFile() ? Math.min(size, seen.blocks * 512) : 0;
    needed += size - allocated;
  }
  return needed;
}
