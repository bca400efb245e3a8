import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listLocalFiles, localFileError } from "../../../src/deployer/upload/local-files.js";

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
    expect(listing.skipped.sort()).toEqual([".cache", ".gitattributes", "manifest.json"]);
  });

  it("follows symlinks, like a Hugging Face snapshot folder, and survives a loop", async () => {
    const blobs = tree("blobs", { abc123: "weights!" });
    const snapshot = path.join(root, "snapshot");
    mkdirSync(snapshot);
    symlinkSync(path.join(blobs, "abc123"), path.join(snapshot, "model.safetensors"));
    symlinkSync(snapshot, path.join(snapshot, "loop"));
    symlinkSync(path.join(root, "does-not-exist"), path.join(snapshot, "dangling"));
    const listing = await listLocalFiles(snapshot);
    expect(listing.files.map((f) => [f.path, f.size])).toEqual([["model.safetensors", 8]]);
    expect(listing.skipped).toEqual(["dangling"]);
  });

  it("refuses a missing folder, a file, and an empty folder with exit-2 errors", async () => {
    await expect(listLocalFiles(path.join(root, "nope"))).rejects.toMatchObject({ kind: "usage", code: "weights-dir-missing" });
    const file = path.join(root, "plain-file");
    writeFileSync(file, "x");
    await expect(listLocalFiles(file)).rejects.toMatchObject({ kind: "usage", code: "weights-dir-missing" });
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
