import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { usageError } from "../../core/errors.js";

/**
 * The weight files to upload from a local folder, with paths relative to it in POSIX form (they
 * become S3 keys under `<model>/`). Symlinks are followed, because a Hugging Face cache snapshot
 * is a folder of symlinks into `blobs/`. Hidden entries (`.git`, `.cache/huggingface` that
 * `huggingface-cli download --local-dir` leaves behind) are skipped: no model server reads them.
 * A top-level `manifest.json` or `manifest-<sha256>.json` is skipped too: those keys are synkti's own
 * manifest and its pinned copies.
 */
export interface LocalFile {
  /** Relative POSIX path, the S3 key suffix and the manifest's `path`. */
  path: string;
  absolutePath: string;
  size: number;
}

export interface LocalListing {
  files: LocalFile[];
  skipped: string[];
}

const MANIFEST_NAME = /^manifest(-[0-9a-f]{64})?\.json$/;

export async function listLocalFiles(root: string, remedy = "synkti upload model --project-name <project> --model <model> --from <weights-dir>"): Promise<LocalListing> {
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) {
    throw usageError("weights-dir-missing", `--from ${root} is not a folder.`, remedy);
  }
  const files: LocalFile[] = [];
  const skipped: string[] = [];
  const seenDirs = new Set<string>(); // real paths, so a symlink loop cannot recurse forever

  async function walk(dir: string, relative: string): Promise<void> {
    const real = await realpath(dir).catch((error: unknown) => Promise.reject(localFileError(error, dir)));
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => Promise.reject(localFileError(error, dir)));
    for (const entry of entries) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      const abs = path.join(dir, entry.name);
      if (entry.name.startsWith(".") || (relative === "" && MANIFEST_NAME.test(entry.name))) {
        skipped.push(rel);
        continue;
      }
      const info = await stat(abs).catch(() => undefined); // follows symlinks; a dangling one is skipped
      if (info?.isDirectory()) await walk(abs, rel);
      else if (info?.isFile()) files.push({ path: rel, absolutePath: abs, size: info.size });
      else skipped.push(rel);
    }
  }

  await walk(root, "");
  if (files.length === 0) {
    throw usageError("weights-dir-empty", `--from ${root} holds no files to upload.`, remedy);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };
}

/**
 * A local file or folder that cannot be read (EACCES), or that went away while the upload ran
 * (ENOENT): the operator's to fix, so a usage error with the fix, never "a bug in synkti".
 */
export function localFileError(error: unknown, file: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EACCES" || code === "EPERM") {
    return usageError("weights-unreadable", `${file} cannot be read (${code}).`, `chmod -R u+rX ${path.dirname(file)}   # then the same command again`);
  }
  if (code === "ENOENT") {
    return usageError("weights-changed", `${file} disappeared while uploading: the folder changed under the upload.`, "the same command again, once the folder is complete (files already uploaded are skipped)");
  }
  return error;
}
