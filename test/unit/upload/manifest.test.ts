import { describe, expect, it } from "vitest";
import { buildManifest, parseManifest, renderManifest, sameContent } from "../../../src/artifacts/manifest.js";

const sha = (c: string) => c.repeat(64);
const files = [
  { path: "z.safetensors", size: 10, sha256: sha("a"), extra: "dropped" },
  { path: "config.json", size: 2, sha256: sha("b") },
];

describe("manifest", () => {
  it("lists files sorted by path with only path, size and sha256", () => {
    const m = buildManifest("org/m", files, new Date("2026-01-02T03:04:05Z"), "1.2.3");
    expect(m).toEqual({
      model: "org/m",
      files: [
        { path: "config.json", size: 2, sha256: sha("b") },
        { path: "z.safetensors", size: 10, sha256: sha("a") },
      ],
      createdAt: "2026-01-02T03:04:05.000Z",
      synktiVersion: "1.2.3",
    });
  });

  it("round-trips through its JSON rendering", () => {
    const m = buildManifest("m", files, new Date(0), "0.1.0");
    expect(parseManifest(renderManifest(m))).toEqual({ ok: true, manifest: m });
  });

  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["wrong shape", JSON.stringify({ model: "m", files: [{ path: "a", size: -1, sha256: sha("a") }], createdAt: "x", synktiVersion: "1" }), /files\.0\.size/],
    ["bad hash", JSON.stringify({ model: "m", files: [{ path: "a", size: 1, sha256: "xyz" }], createdAt: "x", synktiVersion: "1" }), /sha256/],
  ])("reports a manifest that is %s", (_name, text, problem) => {
    const parsed = parseManifest(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  it("compares content regardless of createdAt, version and file order", () => {
    const a = buildManifest("m", files, new Date(0), "0.1.0");
    const b = { ...buildManifest("m", [...files].reverse(), new Date(1000), "0.2.0"), files: [...a.files].reverse() };
    expect(sameContent(a, b)).toBe(true);
    expect(sameContent(a, { ...a, model: "other" })).toBe(false);
    expect(sameContent(a, { ...a, files: a.files.slice(1) })).toBe(false);
    expect(sameContent(a, { ...a, files: a.files.map((f, i) => (i === 0 ? { ...f, sha256: sha("c") } : f)) })).toBe(false);
  });
});
