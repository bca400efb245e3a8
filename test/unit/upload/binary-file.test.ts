import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkBinary } from "../../../src/deployer/upload/binary-file.js";
import { SynktiError } from "../../../src/core/errors.js";

const dir = mkdtempSync(path.join(tmpdir(), "synkti-binary-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer, executable = false): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  if (executable) chmodSync(p, 0o755);
  return p;
}

const linuxElf = () => {
  const h = Buffer.alloc(4096);
  h.write("\x7fELF\x02\x01\x01", 0, "latin1");
  h.writeUInt16LE(2, 16);
  h.writeUInt16LE(0x3e, 18);
  return h;
};

async function failure(promise: Promise<unknown>): Promise<SynktiError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SynktiError);
  return error as SynktiError;
}

describe("checkBinary", () => {
  it("refuses a Mach-O build with what it is and how to build the right one (exit 2)", async () => {
    const macho = Buffer.alloc(64);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    const error = await failure(checkBinary(file("mac", macho), undefined, true));
    expect(error).toMatchObject({ kind: "usage", code: "binary-wrong-platform" });
    expect(error.message).toMatch(/Mach-O arm64 executable \(macOS\).*linux-x64/);
    expect(error.remedy).toMatch(/npm run build/);
  });

  it("says a missing file is missing", async () => {
    const error = await failure(checkBinary(path.join(dir, "nope"), undefined, true));
    expect(error).toMatchObject({ kind: "usage", code: "binary-unreadable" });
    expect(error.message).toMatch(/does not exist/);
  });

  it("on a host that cannot run it, needs --version-label and then uses it", async () => {
    const elf = file("elf-label", linuxElf());
    const error = await failure(checkBinary(elf, undefined, false));
    expect(error).toMatchObject({ kind: "usage", code: "binary-version-unknown" });
    expect(error.remedy).toMatch(/--version-label/);
    await expect(checkBinary(elf, "1.2.3", false)).resolves.toEqual({ version: "1.2.3", versionSource: "label" });
    await expect(checkBinary(elf, "latest", false)).rejects.toMatchObject({ code: "bad-version-label" });
  });

  it("refuses a Linux program that is not synkti: its --version is not a bare version", async () => {
    // The test runner's own node is a linux-x64 ELF that prints "v20.x.y".
    const error = await failure(checkBinary(process.execPath, undefined, true));
    expect(error).toMatchObject({ kind: "usage", code: "binary-not-synkti" });
  });

  it("refuses a file it cannot execute, with chmod as the fix", async () => {
    const error = await failure(checkBinary(file("not-executable", linuxElf()), undefined, true));
    expect(error).toMatchObject({ code: "binary-does-not-run", remedy: expect.stringMatching(/chmod \+x/) });
  });
});
