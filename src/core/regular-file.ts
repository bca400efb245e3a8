import { constants, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { usageError } from "./errors.js";

/**
 * Files named on the command line (`--file`) are opened here, and only a regular file is accepted.
 * A FIFO would block the open (and every Ctrl-C after it) until some writer appeared; a device or
 * a folder would be read as if it were a build. The open is non-blocking, so a FIFO opens at once
 * and is then refused by what the open handle is (no window between a check and the open).
 */
export async function openRegularFile(file: string, flag: string, remedy: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EACCES" || code === "EPERM" ? `cannot be read (${code}: permission denied)` : `cannot be opened (${code})`;
    throw usageError("file-unreadable", `${flag} ${file} ${why}.`, remedy);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw usageError("not-a-regular-file", `${flag} ${file} is ${fileType(stats)}, not a regular file.`, remedy);
  }
  return { handle, size: stats.size };
}

/** What a path is, in words: "a folder", "a FIFO (named pipe)". */
export function fileType(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "a special file";
}
