import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBinaryInS3 } from "../../../src/artifacts/index.js";
import { uploadBinary } from "../../../src/deployer/upload/index.js";
import { MiB, startHarness, type Harness } from "./harness.js";
import { fakeBuild as fakeElf } from "../../support/fake-elf.js";

let h: Harness;
const dir = mkdtempSync(path.join(tmpdir(), "synkti-binary-it-"));
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await h?.close();
});

/** A linux-x64 ELF with synkti's version marker and random bytes: it passes the checks; it never runs. */
function fakeBuild(name: string, size: number, version = "1.2.3"): { file: string; sha256: string; bytes: Buffer } {
  const bytes = fakeElf({ size, version });
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return { file, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

// The version comes from the fake build's marker; --version-label cross-checks it.
const input = (names: Awaited<ReturnType<Harness["project"]>>, file: string, version = "1.2.3") => ({
  names,
  file,
  versionLabel: version,
  concurrency: 4,
});

describe("upload binary against moto", () => {
  it("uploads with sha256 and version metadata and a sha256sum file; a second run is unchanged", async () => {
    const names = await h.project("up-bin-a");
    const build = fakeBuild("a", 11 * MiB);
    const result = await uploadBinary(h.deps(), input(names, build.file));
    expect(result).toMatchObject({ status: "uploaded", key: "bin/synkti", checksumKey: "bin/synkti.sha256", sha256: build.sha256, version: "1.2.3", versionSource: "binary", size: 11 * MiB });

    const head = await h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: "bin/synkti", ChecksumMode: "ENABLED" }));
    expect(head.Metadata).toEqual({ sha256: build.sha256, version: "1.2.3" });
    expect(head.ChecksumSHA256).toBeTruthy();
    const sums = await (await h.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: "bin/synkti.sha256" }))).Body!.transformToString();
    expect(sums).toBe(`${build.sha256}  synkti\n`);

    await expect(uploadBinary(h.deps(), input(names, build.file))).resolves.toMatchObject({ status: "unchanged" });
    const quick = await verifyBinaryInS3(h.deps(), names, { localVersion: "1.2.3", localSha256: build.sha256 });
    expect(quick).toMatchObject({ present: true, ok: true, depth: "quick", size: 11 * MiB, version: "1.2.3", sha256Recorded: build.sha256, sha256ChecksumFile: build.sha256, versionMatches: true, sha256MatchesLocal: true });
    await expect(verifyBinaryInS3(h.deps(), names, { deep: true, localVersion: "9.9.9" })).resolves.toMatchObject({ ok: true, sha256Actual: build.sha256, versionMatches: false });
  });

  it("deep verify catches bytes overwritten behind intact metadata; a re-upload repairs", async () => {
    const names = await h.project("up-bin-b");
    const build = fakeBuild("b", 6 * MiB);
    await uploadBinary(h.deps(), input(names, build.file));
    const tampered = Buffer.from(build.bytes);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0xff, tampered.length - 1);
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: "bin/synkti", Body: tampered, Metadata: { sha256: build.sha256, version: "1.2.3" } }));

    await expect(verifyBinaryInS3(h.deps(), names)).resolves.toMatchObject({ ok: true, depth: "quick" }); // metadata is all quick sees
    const deep = await verifyBinaryInS3(h.deps(), names, { deep: true });
    expect(deep).toMatchObject({ ok: false, sha256Recorded: build.sha256 });
    expect(deep.sha256Actual).not.toBe(build.sha256);
    expect(deep.problems).toContain("the object's bytes do not hash to its recorded sha256: tampered or corrupted");

    // Same size and the same recorded hash: the uploader trusts metadata, so only a changed build re-uploads;
    // an overwrite by another tool (no metadata) is repaired by the next upload:
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: "bin/synkti", Body: tampered }));
    await expect(verifyBinaryInS3(h.deps(), names)).resolves.toMatchObject({ ok: false, problems: expect.arrayContaining([expect.stringMatching(/no sha256 metadata/)]) });
    await expect(uploadBinary(h.deps(), input(names, build.file))).resolves.toMatchObject({ status: "uploaded" });
    await expect(verifyBinaryInS3(h.deps(), names, { deep: true })).resolves.toMatchObject({ ok: true });
  });

  it("quick verify: a missing binary, a missing or disagreeing checksum file", async () => {
    const names = await h.project("up-bin-c");
    await expect(verifyBinaryInS3(h.deps(), names)).resolves.toMatchObject({ present: false, ok: false });
    const build = fakeBuild("c", 1000);
    await uploadBinary(h.deps(), input(names, build.file));
    await h.s3.send(new DeleteObjectCommand({ Bucket: names.bucket, Key: "bin/synkti.sha256" }));
    await expect(verifyBinaryInS3(h.deps(), names)).resolves.toMatchObject({ ok: false, problems: ["bin/synkti.sha256 is missing"] });
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: "bin/synkti.sha256", Body: `${"0".repeat(64)}  synkti\n` }));
    await expect(verifyBinaryInS3(h.deps(), names)).resolves.toMatchObject({ ok: false, problems: ["bin/synkti.sha256 disagrees with the object's sha256 metadata"] });
    // The uploader repairs the checksum file without re-sending the binary.
    await expect(uploadBinary(h.deps(), input(names, build.file))).resolves.toMatchObject({ status: "uploaded" });
    await expect(verifyBinaryInS3(h.deps(), names)).resolves.toMatchObject({ ok: true });
  });

  it("stores the build under its SHA-256 too; a new build keeps the old hashed key (what running workers' replacements download)", async () => {
    const names = await h.project("up-bin-pinned");
    const first = fakeBuild("p1", 6 * MiB, "1.0.0");
    const result = await uploadBinary(h.deps(), input(names, first.file, "1.0.0"));
    expect(result).toMatchObject({ status: "uploaded", key: "bin/synkti", pinnedKey: `bin/synkti-${first.sha256}` });
    const pinnedBytes = async (sha256: string) => Buffer.from(await (await h.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: `bin/synkti-${sha256}` }))).Body!.transformToByteArray());
    expect((await pinnedBytes(first.sha256)).equals(first.bytes)).toBe(true);
    const pinnedHead = await h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: `bin/synkti-${first.sha256}` }));
    expect(pinnedHead.Metadata).toEqual({ sha256: first.sha256, version: "1.0.0" });

    const next = fakeBuild("p2", 3 * MiB, "1.1.0");
    await expect(uploadBinary(h.deps(), input(names, next.file, "1.1.0"))).resolves.toMatchObject({ status: "uploaded", pinnedKey: `bin/synkti-${next.sha256}` });
    // The latest key moved on; the first build is still there, byte for byte, under its hash.
    const latest = Buffer.from(await (await h.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: "bin/synkti" }))).Body!.transformToByteArray());
    expect(latest.equals(next.bytes)).toBe(true);
    expect((await pinnedBytes(first.sha256)).equals(first.bytes)).toBe(true);
    expect((await pinnedBytes(next.sha256)).equals(next.bytes)).toBe(true);
    await expect(verifyBinaryInS3(h.deps(), names, { deep: true })).resolves.toMatchObject({ ok: true, pinned: { key: `bin/synkti-${next.sha256}`, present: true } });
  });

  it("a binary uploaded before hashed keys existed gets its hashed copy by a server-side copy; verify says when it is missing", async () => {
    const names = await h.project("up-bin-legacy");
    const build = fakeBuild("legacy", 2 * MiB);
    await uploadBinary(h.deps(), input(names, build.file));
    await h.s3.send(new DeleteObjectCommand({ Bucket: names.bucket, Key: `bin/synkti-${build.sha256}` }));
    await expect(verifyBinaryInS3(h.deps(), names)).resolves.toMatchObject({ ok: true, pinned: { present: false, problem: `s3://up-bin-legacy-models/bin/synkti-${build.sha256} does not exist` } });
    await expect(uploadBinary(h.deps(), input(names, build.file))).resolves.toMatchObject({ status: "uploaded" });
    const copy = await h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: `bin/synkti-${build.sha256}` }));
    expect(copy.Metadata).toEqual({ sha256: build.sha256, version: "1.2.3" });
    expect(copy.ContentLength).toBe(2 * MiB);
    await expect(verifyBinaryInS3(h.deps(), names, { deep: true })).resolves.toMatchObject({ pinned: { present: true } });
    await expect(uploadBinary(h.deps(), input(names, build.file))).resolves.toMatchObject({ status: "unchanged" });
  });

  it("a new build replaces the old one", async () => {
    const names = await h.project("up-bin-d");
    await uploadBinary(h.deps(), input(names, fakeBuild("d1", 1000, "1.0.0").file, "1.0.0"));
    const next = fakeBuild("d2", 2000, "1.1.0");
    await expect(uploadBinary(h.deps(), input(names, next.file, "1.1.0"))).resolves.toMatchObject({ status: "uploaded", version: "1.1.0" });
    await expect(verifyBinaryInS3(h.deps(), names, { localSha256: next.sha256 })).resolves.toMatchObject({ ok: true, version: "1.1.0", sha256MatchesLocal: true });
  });

  it("refuses a missing bucket (exit 1) and a non-linux build (exit 2) before any upload", async () => {
    const names = await h.project("up-bin-e", { bucket: false });
    await expect(uploadBinary(h.deps(), input(names, fakeBuild("e", 100).file))).rejects.toMatchObject({ kind: "unsafe", remedy: "synkti infra up --project-name up-bin-e" });
    const mac = path.join(dir, "mac");
    writeFileSync(mac, Buffer.from("cffaedfe0c000001", "hex"));
    await expect(uploadBinary(h.deps(), input(names, mac))).rejects.toMatchObject({ kind: "usage", code: "binary-wrong-platform" });
  });
});
