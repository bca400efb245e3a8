import type { FileHandle } from "node:fs/promises";
import { usageError } from "../../core/errors.js";
import { openRegularFile } from "../../core/regular-file.js";
import { MAX_MARKER_VERSION_LENGTH, SEMVER, VERSION_MARKER_PREFIX, VERSION_MARKER_SUFFIX } from "../../core/version.js";
import { describeExecutable, HEADER_BYTES, programHeadersProblem, programHeaderTable } from "./elf.js";

/**
 * What gets uploaded as bin/synkti must be a linux-x64 build of synkti. The file is read, never
 * run: running it would hand whatever it is the operator's credentials (they are in our
 * environment). So: a regular file (a FIFO would block, a folder is not a build), an x86-64 Linux
 * ELF whose header and program headers describe something a kernel would load (elf.ts), and the
 * version from the marker every build embeds (src/core/version.ts), found by scanning its bytes.
 * That works the same on any host, so a Mac uploads a linux-x64 build without --version-label.
 */
export interface BinaryCheck {
  version: string;
  /** Where the version came from: always the build's marker now (the field stays for the JSON contract). */
  versionSource: "binary";
}

const REBUILD = "npm run build   # then: synkti upload binary --project-name <project> --file dist/synkti";
const SCAN_CHUNK = 4 * 1024 * 1024;

export async function checkBinary(file: string, versionLabel?: string): Promise<BinaryCheck> {
  if (versionLabel !== undefined && !SEMVER.test(versionLabel)) {
    throw usageError("bad-version-label", `--version-label '${versionLabel}' is not a version like 1.2.3.`, `synkti upload binary --project-name <project> --file ${file}   # the version is read from the build`);
  }
  const { handle, size } = await openRegularFile(file, "--file", REBUILD);
  try {
    const header = await readAt(handle, 0, Math.min(HEADER_BYTES, size));
    const kind = describeExecutable(header);
    if (!kind.linuxX64) {
      throw usageError(
        "binary-wrong-platform",
        `${file} is ${kind.description}; workers run linux-x64 and need a 64-bit x86-64 ELF build.`,
        "npm run build   # on linux-x64, e.g. in CI; then upload that dist/synkti",
      );
    }
    const table = programHeaderTable(header, size);
    const problem = "problem" in table ? table.problem : programHeadersProblem(header, await readAt(handle, table.offset, table.length), size);
    if (problem !== undefined) {
      throw usageError("binary-malformed", `${file} starts like a linux-x64 ELF executable, but ${problem}: it is not a complete build.`, REBUILD);
    }
    const versions = await markerVersions(handle, size);
    if (versions.size === 0) {
      throw usageError("binary-not-synkti", `${file} is a linux-x64 executable without synkti's version marker: not a synkti build, or one built before builds carried the marker.`, REBUILD);
    }
    if (versions.size > 1) {
      throw usageError("binary-ambiguous-version", `${file} carries several synkti versions (${[...versions].join(", ")}): not one build.`, REBUILD);
    }
    const version = [...versions][0]!;
    if (versionLabel !== undefined && versionLabel !== version) {
      throw usageError("version-label-mismatch", `--version-label ${versionLabel} contradicts the build, which is synkti ${version}.`, `synkti upload binary --project-name <project> --file ${file}   # without --version-label`);
    }
    return { version, versionSource: "binary" };
  } finally {
    await handle.close();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/**
 * Every version a marker in the file names. Read in chunks; the last bytes of a chunk that could
 * hold the start of a marker are carried into the next, so a marker cut by a chunk border counts.
 */
async function markerVersions(handle: FileHandle, size: number): Promise<Set<string>> {
  const prefix = Buffer.from(VERSION_MARKER_PREFIX, "latin1");
  const span = prefix.length + MAX_MARKER_VERSION_LENGTH + VERSION_MARKER_SUFFIX.length;
  const buffer = Buffer.alloc(SCAN_CHUNK + span);
  const versions = new Set<string>();
  let carried = 0;
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, carried, SCAN_CHUNK, position);
    position += bytesRead;
    const end = carried + bytesRead;
    const last = bytesRead === 0 || position >= size;
    // A marker starting before `settled` is wholly in this view; later ones wait for the next chunk.
    const settled = last ? end : Math.max(0, end - span + 1);
    const view = buffer.subarray(0, end);
    for (let at = view.indexOf(prefix); at !== -1 && at < settled; at = view.indexOf(prefix, at + 1)) {
      const rest = view.toString("latin1", at + prefix.length, Math.min(end, at + span));
      const close = rest.indexOf(VERSION_MARKER_SUFFIX);
      const version = close > 0 ? rest.slice(0, close) : "";
      if (SEMVER.test(version)) versions.add(version);
    }
    if (last) return versions;
    buffer.copy(buffer, 0, settled, end);
    carried = end - settled;
  }
}
