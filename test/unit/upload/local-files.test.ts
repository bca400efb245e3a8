import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeSkipped, listLocalFiles, localFileError } from "../../../src/deployer/upload/local-files.js";

const root = mkdtempSync(path.join(tmpdir(), "synkti-local-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const dir = path.join(root, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe("listLocalFiles", () => {
  it("refuses, before anything is sent, a file name workers would refuse as a manifest entry, with the rename to run", async () => {
    const dir = tree("globby", { "config.json": "{}", "tok[1].json": "x", "sub/w*.bin": "y" });
    const error = await listLocalFiles(dir, "synkti upload model --project-name p --model m --from <weights-dir>").then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; remedy: string },
    );
    expect(error?.code).toBe("weights-name-invalid");
    expect(error?.message).toBe(
      `--from ${dir} holds 2 files whose name workers refuse as a manifest entry: 'sub/w*.bin' contains a glob or escape character (one of * ? [ ] { } \\); 'tok[1].json' contains a glob or escape character (one of * ? [ ] { } \\). Nothing was uploaded.`,
    );
    expect(error?.remedy).toBe(`mv '${dir}/sub/w*.bin' '${dir}/sub/w_.bin'   # then: synkti upload model --project-name p --model m --from <weights-dir>`);
  });

  it("lists files recursively as sorted POSIX paths, skipping hidden entries and a local manifest.json", async () => {
    const dir = tree("w", {
      "model-00002.safetensors": "bb",
      "config.json": "{}",
      "tokenizer/vocab.txt": "abc",
      ".cache/huggingface/x.lock": "",
      ".gitattributes": "",
      "manifest.json": "{}",
      "sub/manifest.json": "kept: only the top-level one is synkti's",
    });
    const listing = await listLocalFiles(dir);
    expect(listing.files.map((f) => [f.path, f.size])).toEqual([
      ["config.json", 2],
      ["model-00002.safetensors", 2],
      ["sub/manifest.json", 40],
      ["tokenizer/vocab.txt", 3],
    ]);
    expect(listing.skipped).toEqual(
      expect.arrayContaining([
        { path: ".cache", reason: "hidden" },
        { path: ".gitattributes", reason: "hidden" },
        { path: "manifest.json", reason: "synkti's own manifest" },
      ]),
    );
    expect(listing.skipped).toHaveLength(3);
  });

  it("follows a Hugging Face cache snapshot's links into its own blobs/, and survives a loop", async () => {
    const repo = path.join(root, "hub", "models--org--tiny");
    const blobs = path.join(repo, "blobs");
    const snapshot = path.join(repo, "snapshots", "abc");
    mkdirSync(blobs, { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(path.join(blobs, "abc123"), "weights!");
    symlinkSync("../../blobs/abc123", path.join(snapshot, "model.safetensors"));
    symlinkSync(snapshot, path.join(snapshot, "loop"));
    symlinkSync(path.join(root, "does-not-exist"), path.join(snapshot, "dangling"));
    const listing = await listLocalFiles(snapshot);
    expect(listing.files.map((f) => [f.path, f.size, f.absolutePath])).toEqual([["model.safetensors", 8, path.join(blobs, "abc123")]]);
    expect(listing.skipped).toEqual([
      { path: "dangling", reason: "a link to nothing" },
      { path: "loop", reason: "a link to a folder already listed (a loop)" },
    ]);
  });

  it("uploads only regular files inside the folder: links out of it (to /etc, /proc, a sibling), FIFOs and devices are skipped with the reason", async () => {
    const outside = tree("outside", { "secret.txt": "aws_secret_access_key=..." });
    const dir = tree("hostile", { "config.json": "{}", "sub/inner.bin": "abc" });
    symlinkSync("/etc/passwd", path.join(dir, "passwd"));
    symlinkSync("/proc/self", path.join(dir, "proc"));
    symlinkSync(outside, path.join(dir, "sibling"));
    symlinkSync(path.join(outside, "secret.txt"), path.join(dir, "secret.txt"));
    symlinkSync("sub/inner.bin", path.join(dir, "inner-link.bin")); // inside: uploaded
    execFileSync("mkfifo", [path.join(dir, "pipe")]);
    symlinkSync("/dev/zero", path.join(dir, "zeros"));
    const listing = await listLocalFiles(dir);
    expect(listing.files.map((f) => f.path)).toEqual(["config.json", "inner-link.bin", "sub/inner.bin"]);
    const reasons = Object.fromEntries(listing.skipped.map((s) => [s.path, s.reason]));
    expect(reasons).toEqual({
      passwd: expect.stringMatching(/^a link to \/etc\/passwd, outside the folder$/),
      proc: expect.stringMatching(/^a link to \/proc\/\d+, outside the folder$/),
      sibling: `a link to ${outside}, outside the folder`,
      "secret.txt": `a link to ${path.join(outside, "secret.txt")}, outside the folder`,
      pipe: "a FIFO (named pipe), not a regular file",
      zeros: "a link to /dev/zero, outside the folder",
    });
    expect(describeSkipped(listing.skipped, 2)).toMatch(/^\S+ \(.+\), \S+ \(.+\) and 4 more$/);
  });

  it("a folder of nothing but links out of it is refused, saying what was skipped", async () => {
    const dir = path.join(root, "only-links");
    mkdirSync(dir);
    symlinkSync("/etc", path.join(dir, "etc"));
    await expect(listLocalFiles(dir)).rejects.toMatchObject({ code: "weights-dir-empty", message: `--from ${dir} holds no files to upload (skipped: etc (a link to /etc, outside the folder)).` });
  });

  it("refuses a missing folder, a file, and an empty folder with exit-2 errors", async () => {
    await expect(listLocalFiles(path.join(root, "nope"))).rejects.toMatchObject({ kind: "usage", code: "weights-dir-missing" });
    const file = path.join(root, "plain-file");
    writeFileSync(file, "x");
    await expect(listLocalFiles(file)).rejects.toMatchObject({ kind: "usage", code: "weights-dir-missing", message: `--from ${file} is not a folder (it is a regular file).` });
    const fifo = path.join(root, "from-fifo");
    execFileSync("mkfifo", [fifo]);
    await expect(listLocalFiles(fifo)).rejects.toMatchObject({ kind: "usage", code: "weights-dir-missing", message: `--from ${fifo} is not a folder (it is a FIFO (named pipe)).` });
    const empty = path.join(root, "empty");
    mkdirSync(path.join(empty, ".git"), { recursive: true });
    await expect(listLocalFiles(empty, "synkti upload model --project-name p1")).rejects.toMatchObject({
      code: "weights-dir-empty",
      remedy: "synkti upload model --project-name p1",
    });
  });
});

// Root (CI) reads through any mode bits, so the errno errors are built by hand here.
describe("a weights file the operator's system refuses", () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: scandir '/w/private'`), { code });

  it("EACCES is a usage error with the chmod that fixes it, not 'a bug in synkti'", () => {
    expect(localFileError(errno("EACCES"), "/w/private/model.safetensors")).toMatchObject({
      code: "weights-unreadable",
      kind: "usage",
      remedy: expect.stringMatching(/^chmod -R u\+rX \/w\/private/),
    });
  });

  it("ENOENT mid-upload says the folder changed and that a re-run resumes", () => {
    expect(localFileError(errno("ENOENT"), "/w/model.safetensors")).toMatchObject({ code: "weights-changed", kind: "usage" });
  });

  it("anything else is passed on unchanged", () => {
    const other = errno("EIO");
    expect(localFileError(other, "/w/x")).toBe(other);
  });
});
