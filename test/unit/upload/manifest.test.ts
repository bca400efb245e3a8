import { describe, expect, it } from "vitest";
import { buildManifest, manifestPathProblem, parseManifest, renderManifest, requireChunks, sameContent } from "../../../src/artifacts/manifest.js";

const sha = (c: string) => c.repeat(64);
const files = [
  { path: "z.safetensors", size: 10, sha256: sha("a"), chunks: [sha("c"), sha("d")], extra: "dropped" },
  { path: "config.json", size: 2, sha256: sha("b"), chunks: [sha("b")] },
];
const CHUNK = 8;

describe("manifest (version 2)", () => {
  it("lists files sorted by path with path, size, sha256 and chunk hashes, and its chunk size", () => {
    const m = buildManifest("org/m", files, new Date("2026-01-02T03:04:05Z"), "1.2.3", CHUNK);
    expect(m).toEqual({
      version: 2,
      chunkSize: CHUNK,
      model: "org/m",
      files: [
        { path: "config.json", size: 2, sha256: sha("b"), chunks: [sha("b")] },
        { path: "z.safetensors", size: 10, sha256: sha("a"), chunks: [sha("c"), sha("d")] },
      ],
      createdAt: "2026-01-02T03:04:05.000Z",
      synktiVersion: "1.2.3",
    });
  });

  it("round-trips through its JSON rendering", () => {
    const m = buildManifest("m", files, new Date(0), "0.1.0", CHUNK);
    expect(parseManifest(renderManifest(m))).toEqual({ ok: true, manifest: m });
  });

  const v2 = (file: object) => JSON.stringify({ version: 2, chunkSize: CHUNK, model: "m", files: [file], createdAt: "x", synktiVersion: "1" });
  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["wrong shape", v2({ path: "a", size: -1, sha256: sha("a"), chunks: [] }), /files\.0\.size/],
    ["bad hash", v2({ path: "a", size: 1, sha256: "xyz", chunks: [sha("a")] }), /sha256/],
    ["short of chunk hashes", v2({ path: "a", size: 9, sha256: sha("a"), chunks: [sha("a")] }), /'a' lists 1 chunk hashes, its size needs 2/],
    ["of an unknown version", JSON.stringify({ version: 3 }), /version 3, which this synkti does not read/],
    ["escaping the folder", v2({ path: "../x", size: 1, sha256: sha("a"), chunks: [sha("a")] }), /path '\.\.\/x' has a '\.\.' segment/],
    ["matching a glob", v2({ path: "*", size: 1, sha256: sha("a"), chunks: [sha("a")] }), /path '\*' contains a glob/],
  ])("reports a manifest that is %s", (_name, text, problem) => {
    const parsed = parseManifest(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  it.each([
    ["../x", /'\.\.' segment/],
    ["a/../../x", /'\.\.' segment/],
    ["/etc/passwd", /absolute/],
    ["*", /glob/],
    ["model-?.bin", /glob/],
    ["a//b", /empty segment/],
    ["a/", /empty segment/],
    ["./a", /'\.' segment/],
    ["a\\..\\b", /glob or escape/],
    ["a\nb", /control/],
    ["", /empty/],
  ])("refuses the path %j", (path, problem) => {
    expect(manifestPathProblem(path)).toMatch(problem);
  });

  it.each(["config.json", "sub/dir/model-00001-of-00002.safetensors", "tokenizer..json", ".hidden"])("accepts the path %j", (path) => {
    expect(manifestPathProblem(path)).toBeUndefined();
  });

  it("compares content regardless of createdAt, version and file order", () => {
    const a = buildManifest("m", files, new Date(0), "0.1.0", CHUNK);
    const b = { ...buildManifest("m", [...files].reverse(), new Date(1000), "0.2.0", CHUNK), files: [...a.files].reverse() };
    expect(sameContent(a, b)).toBe(true);
    expect(sameContent(a, { ...a, model: "other" })).toBe(false);
    expect(sameContent(a, { ...a, files: a.files.slice(1) })).toBe(false);
    expect(sameContent(a, { ...a, files: a.files.map((f, i) => (i === 0 ? { ...f, sha256: sha("c") } : f)) })).toBe(false);
    expect(sameContent(a, { ...a, files: a.files.map((f, i) => (i === 0 ? { ...f, chunks: [sha("e")] } : f)) })).toBe(false);
  });
});

describe("manifest version 1 (an upload by an older synkti)", () => {
  const v1 = { model: "m", files: [{ path: "a.bin", size: 3, sha256: sha("a") }], createdAt: "x", synktiVersion: "0.1.0" };

  it("is still read (sizes and whole-file hashes) and marked as version 1", () => {
    expect(parseManifest(JSON.stringify(v1))).toEqual({ ok: true, manifest: { ...v1, version: 1 } });
  });

  it("is refused where chunk hashes are needed, and never equals a version 2 (so a re-upload rewrites it)", () => {
    const parsed = parseManifest(JSON.stringify(v1));
    if (!parsed.ok) throw new Error(parsed.problem);
    const need = requireChunks(parsed.manifest);
    expect(need.ok).toBe(false);
    if (!need.ok) expect(need.problem).toMatch(/version 1 .*re-running the upload rewrites it/);
    const upgraded = buildManifest("m", [{ ...v1.files[0]!, chunks: [sha("a")] }], new Date(0), "0.2.0");
    expect(sameContent(parsed.manifest, upgraded)).toBe(false);
    expect(requireChunks(upgraded).ok).toBe(true);
  });

  it("still refuses paths that leave the folder", () => {
    const parsed = parseManifest(JSON.stringify({ ...v1, files: [{ path: "../x", size: 1, sha256: sha("a") }] }));
    expect(parsed.ok).toBe(false);
  });
});
