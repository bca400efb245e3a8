import { execFile } from "node:child_process";
import { open } from "node:fs/promises";
import { SynktiError, usageError } from "../../core/errors.js";
import { describeExecutable, HEADER_BYTES } from "./elf.js";

/**
 * What gets uploaded as bin/synkti must be a linux-x64 build of synkti. The platform comes from the
 * ELF header; the version from running the file with --version, which also proves it starts (a
 * truncated or foreign binary fails here rather than on every worker). That run is only possible on
 * a linux-x64 host; elsewhere the operator states the version with --version-label.
 */
export interface BinaryCheck {
  version: string;
  /** Where the version came from: running the file, or the operator's label. */
  versionSource: "binary" | "label";
}

const SEMVER = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/;
const RUN_TIMEOUT_MS = 20_000;

export async function readHeader(file: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a folder" : `cannot be read (${code})`;
    throw usageError("binary-unreadable", `${file} ${why}.`, "npm run build   # then: synkti upload binary --project-name <project>");
  }
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function hostIsLinuxX64(): boolean {
  return process.platform === "linux" && process.arch === "x64";
}

export async function checkBinary(file: string, versionLabel: string | undefined, canRun: boolean = hostIsLinuxX64()): Promise<BinaryCheck> {
  const kind = describeExecutable(await readHeader(file));
  if (!kind.linuxX64) {
    throw usageError(
      "binary-wrong-platform",
      `${file} is ${kind.description}; workers run linux-x64 and need a 64-bit x86-64 ELF build.`,
      "npm run build   # on linux-x64, e.g. in CI; then upload that dist/synkti",
    );
  }
  if (versionLabel !== undefined && !SEMVER.test(versionLabel)) {
    throw usageError("bad-version-label", `--version-label '${versionLabel}' is not a version like 1.2.3.`);
  }
  if (!canRun) {
    if (versionLabel !== undefined) return { version: versionLabel, versionSource: "label" };
    throw usageError(
      "binary-version-unknown",
      `Cannot run the linux-x64 build on ${process.platform}-${process.arch} to read its version.`,
      "scripts/upload-binary.sh --project-name <project>   # on Linux/CI; or add --version-label <version>",
    );
  }
  const version = await runVersion(file);
  if (versionLabel !== undefined && versionLabel !== version) {
    throw usageError("version-label-mismatch", `--version-label ${versionLabel} contradicts the binary, which reports ${version}.`);
  }
  return { version, versionSource: "binary" };
}

function runVersion(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ["--version"], { timeout: RUN_TIMEOUT_MS, encoding: "utf8" }, (error, stdout) => {
      const out = stdout.trim();
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const remedy = code === "EACCES" ? `chmod +x ${file}` : "npm run build";
        return reject(usageError("binary-does-not-run", `${file} --version failed (${code ?? error.message}); is it a complete build?`, remedy));
      }
      // A random Linux program (ls, node) answers --version too, but not with a bare version.
      if (!SEMVER.test(out)) {
        return reject(
          new SynktiError(`${file} --version printed '${out.slice(0, 60)}', not a synkti version: is this the synkti build?`, {
            code: "binary-not-synkti",
            kind: "usage",
            remedy: "npm run build   # then upload dist/synkti",
          }),
        );
      }
      resolve(out);
    });
  });
}
