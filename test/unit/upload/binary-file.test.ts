import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkBinary } from "../../../src/deployer/upload/binary-file.js";
import { SynktiError } from "../../../src/core/errors.js";
import { versionMarker } from "../../../src/core/version.js";
import { elfHeader, fakeBuild, loadSegment } from "../../support/fake-elf.js";

const dir = mkdtempSync(path.join(tmpdir(), "synkti-binary-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer, executable = false): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  if (executable) chmodSync(p, 0o755);
  return p;
}

async function failure(promise: Promise<unknown>): Promise<SynktiError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SynktiError);
  return error as SynktiError;
}

describe("checkBinary reads the build's version from its bytes", () => {
  it("finds the marker the build embeds, on any host, without running the file", async () => {
    await expect(checkBinary(file("build", fakeBuild({ version: "2.3.4-rc.1" })))).resolves.toEqual({ version: "2.3.4-rc.1", versionSource: "binary" });
  });

  it("finds a marker cut in two by the 4 MiB read chunks", async () => {
    const size = 4 * 1024 * 1024 + 4096;
    const bytes = fakeBuild({ size, marker: false });
    Buffer.from(versionMarker("7.8.9"), "latin1").copy(bytes, 4 * 1024 * 1024 - 10);
    await expect(checkBinary(file("split", bytes))).resolves.toMatchObject({ version: "7.8.9" });
  });

  it("--version-label is a cross-check: the same version passes, another is refused, a non-version is refused", async () => {
    const build = file("labelled", fakeBuild({ version: "1.2.3" }));
    await expect(checkBinary(build, "1.2.3")).resolves.toMatchObject({ version: "1.2.3" });
    const other = await failure(checkBinary(build, "1.2.4"));
    expect(other).toMatchObject({ kind: "usage", code: "version-label-mismatch", remedy: `synkti upload binary --project-name <project> --file ${build}   # without --version-label` });
    expect(other.message).toMatch(/contradicts the build, which is synkti 1.2.3/);
    await expect(checkBinary(build, "latest")).rejects.toMatchObject({ code: "bad-version-label" });
  });

  it("refuses a linux-x64 executable without a marker (a program that is not synkti), never running it", async () => {
    const error = await failure(checkBinary(process.execPath));
    expect(error).toMatchObject({ kind: "usage", code: "binary-not-synkti", remedy: expect.stringMatching(/^npm run build/) });
    expect(error.message).toMatch(/without synkti.s version marker/);
  });

  it("refuses a file with two different versions in it", async () => {
    const bytes = fakeBuild({ version: "1.0.0" });
    Buffer.from(versionMarker("2.0.0"), "latin1").copy(bytes, 200);
    expect(await failure(checkBinary(file("two", bytes)))).toMatchObject({ code: "binary-ambiguous-version", message: expect.stringMatching(/1\.0\.0, 2\.0\.0|2\.0\.0, 1\.0\.0/) });
  });
});

describe("checkBinary refuses what is not a linux-x64 build (exit 2)", () => {
  it("an ELF header followed by shell text: refused as malformed, and the shell text never runs", async () => {
    const proof = path.join(dir, "ran");
    const script = Buffer.from(`\n${versionMarker("1.2.3")}\ntouch ${proof}\n`);
    const bytes = Buffer.concat([elfHeader({ fileSize: 64 + script.length }), script]);
    const error = await failure(checkBinary(file("elf-then-shell", bytes, true)));
    expect(error).toMatchObject({ kind: "usage", code: "binary-malformed", remedy: expect.stringMatching(/^npm run build/) });
    expect(error.message).toMatch(/starts like a linux-x64 ELF executable, but (it has no loadable segment|its program headers .* lie outside).*: it is not a complete build/);
    expect(existsSync(proof)).toBe(false);
  });

  it.each([
    ["a segment past the end of the file", () => Buffer.concat([elfHeader({ fileSize: 4096 }), loadSegment({ fileSize: 4096, fileBytes: 1n << 20n }), Buffer.alloc(4096 - 120)]), /loadable segment .* outside the 4096-byte file/],
    ["an entry point in no executable segment", () => Buffer.concat([elfHeader({ fileSize: 4096 }), loadSegment({ fileSize: 4096, flags: 4 }), Buffer.alloc(4096 - 120)]), /entry point 0x400100 is in no executable segment/],
    ["no program headers", () => Buffer.concat([elfHeader({ fileSize: 4096, phnum: 0 }), Buffer.alloc(4096 - 64)]), /no program headers/],
    ["a header cut short", () => elfHeader({ fileSize: 64 }).subarray(0, 40), /truncated ELF|cut short/],
  ])("%s", async (_name, bytes, message) => {
    const error = await failure(checkBinary(file(`bad-${_name.replaceAll(" ", "-")}`, bytes())));
    expect(error.kind).toBe("usage");
    expect(error.message).toMatch(message);
  });

  it("a Mach-O build, with what it is and how to build the right one", async () => {
    const macho = Buffer.alloc(64);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    const error = await failure(checkBinary(file("mac", macho)));
    expect(error).toMatchObject({ kind: "usage", code: "binary-wrong-platform" });
    expect(error.message).toMatch(/Mach-O arm64 executable \(macOS\).*linux-x64/);
    expect(error.remedy).toMatch(/npm run build/);
  });

  it("a missing file", async () => {
    const error = await failure(checkBinary(path.join(dir, "nope")));
    expect(error).toMatchObject({ kind: "usage", code: "file-unreadable", message: `--file ${path.join(dir, "nope")} does not exist.` });
  });

  it("a FIFO, at once (opening one would wait for a writer for ever)", async () => {
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const started = Date.now();
    const error = await failure(checkBinary(fifo));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({ kind: "usage", code: "not-a-regular-file", message: `--file ${fifo} is a FIFO (named pipe), not a regular file.`, remedy: expect.stringMatching(/^npm run build/) });
  });

  it.each([
    ["/", "a folder"],
    ["/dev/null", "a character device"],
  ])("%s is %s", async (target, what) => {
    expect(await failure(checkBinary(target))).toMatchObject({ code: "not-a-regular-file", message: `--file ${target} is ${what}, not a regular file.` });
  });
});
