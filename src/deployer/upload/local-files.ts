import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { manifestPathProblem } from "../../artifacts/manifest.js";
import { usageError } from "../../core/errors.js";
import { fileType } from "../../core/regular-file.js";

/**
 * The weight files to upload from a local folder, with paths relative to it in POSIX form (they
 * become S3 keys under `<model>/`). Only regular files inside the folder are uploaded: a symlink
 * is followed only when its target stays inside (a link to `/etc`, `~/.aws` or `/proc` would
 * publish what it points at to the bucket, and `/proc` files never end). One exception, because a
 * Hugging Face cache snapshot (`models--org--name/snapshots/<rev>/`) is a folder of links into
 * `../../blobs/`: the links of a snapshot may point into its own repository's `blobs/`.
 * Hidden entries (`.git`, `.cache/huggingface` that `huggingface-cli download --local-dir` leaves
 * behind) are skipped: no model server reads them. A top-level `manifest.json` or
 * `manifest-<sha256>.json` is skipped too: those keys are synkti's own manifest and its pinned
 * copies. Everything skipped is listed with the reason, for the operator to see.
 */
export interface LocalFile {
  /** Relative POSIX path, the S3 key suffix and the manifest's `path`. */
  path: string;
  /** The file's real path (links resolved and checked): what is read, whatever the link says later. */
  absolutePath: string;
  size: number;
}

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface LocalListing {
  files: LocalFile[];
  skipped: SkippedEntry[];
}

const MANIFEST_NAME = /^manifest(-[0-9a-f]{64})?\.json$/;

export async function listLocalFiles(root: string, remedy = "synkti upload model --project-name <project> --model <model> --from <weights-dir>"): Promise<LocalListing> {
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) {
    throw usageError("weights-dir-missing", `--from ${root} is not a folder (${rootStat ? `it is ${fileType(rootStat)}` : "it does not exist"}).`, remedy);
  }
  const realRoot = await realpath(root).catch((error: unknown) => Promise.reject(localFileError(error, root)));
  const inside = await allowedRoots(realRoot);
  const files: LocalFile[] = [];
  const skipped: SkippedEntry[] = [];
  const seenDirs = new Set<string>(); // real paths, so a symlink loop cannot recurse forever

  async function walk(dir: string, relative: string): Promise<void> {
    seenDirs.add(dir);
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => Promise.reject(localFileError(error, dir)));
    for (const entry of entries) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      const skip = (reason: string) => skipped.push({ path: rel, reason });
      if (entry.name.startsWith(".")) {
        skip("hidden");
        continue;
      }
      if (relative === "" && MANIFEST_NAME.test(entry.name)) {
        skip("synkti's own manifest");
        continue;
      }
      const abs = path.join(dir, entry.name);
      const real = await realpath(abs).catch(() => undefined);
      if (real === undefined) {
        skip("a link to nothing");
        continue;
      }
      if (!inside.some((allowed) => real === allowed || real.startsWith(`${allowed}${path.sep}`))) {
        skip(`a link to ${real}, outside the folder`);
        continue;
      }
      const info = await lstat(real).catch(() => undefined);
      if (info?.isDirectory() && (real === realRoot || real.startsWith(`${realRoot}${path.sep}`))) {
        if (seenDirs.has(real)) skip("a link to a folder already listed (a loop)");
        else await walk(real, rel);
      } else if (info?.isFile()) files.push({ path: rel, absolutePath: real, size: info.size });
      else skip(info ? `${fileType(info)}, not a regular file` : "gone while listing");
    }
  }

  await walk(realRoot, "");
  if (files.length === 0) {
    throw usageError("weights-dir-empty", `--from ${root} holds no files to upload${skipped.length > 0 ? ` (skipped: ${describeSkipped(skipped)})` : ""}.`, remedy);
  }
  refuseUnservableNames(root, files, remedy);
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { files: files.sort(byPath), skipped: skipped.sort(byPath) };
}

/**
 * A name workers refuse as a manifest entry (a glob or escape character, a control character: see
 * manifestPathProblem) is refused here, before anything is sent: uploaded, it would make every
 * worker launched with this manifest refuse its weights at boot, after the GPUs were paid for.
 */
function refuseUnservableNames(root: string, files: readonly LocalFile[], remedy: string): void {
  const bad = files.flatMap((f) => {
    const problem = manifestPathProblem(f.path);
    return problem ? [{ path: f.path, problem }] : [];
  }).sort((a, b) => (a.path < b.path ? -1 : 1));
  if (bad.length === 0) return;
  const first = bad[0]!;
  // eslint-disable-next-line no-control-regex
  const renamed = first.path.replace(/[*?[\]{}\\\u0000-\u001f\u007f]/g, "_");
  const quote = (p: string) => `'${path.join(root, p).replaceAll("'", `'\\''`)}'`;
  throw usageError(
    "weights-name-invalid",
    `--from ${root} holds ${bad.length === 1 ? "a file" : `${bad.length} files`} whose name workers refuse as a manifest entry: ${bad.slice(0, 5).map((b) => `'${b.path}' ${b.problem}`).join("; ")}${bad.length > 5 ? ` and ${bad.length - 5} more` : ""}. Nothing was uploaded.`,
    `mv ${quote(first.path)} ${quote(renamed)}   # then: ${remedy}`,
  );
}

/** "a (hidden), b (a FIFO (named pipe), not a regular file)", the first `limit` of them. */
export function describeSkipped(skipped: readonly SkippedEntry[], limit = 10): string {
  const shown = skipped.slice(0, limit).map((s) => `${s.path} (${s.reason})`);
  return skipped.length > limit ? `${shown.join(", ")} and ${skipped.length - limit} more` : shown.join(", ");
}

/** The folder itself and, for a Hugging Face cache snapshot, its repository's blobs/. */
async function allowedRoots(realRoot: string): Promise<string[]> {
  const snapshots = path.dirname(realRoot);
  if (path.basename(snapshots) !== "snapshots") return [realRoot];
  const blobs = await realpath(path.join(path.dirname(snapshots), "blobs")).catch(() => undefined);
  return blobs ? [realRoot, blobs] : [realRoot];
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
