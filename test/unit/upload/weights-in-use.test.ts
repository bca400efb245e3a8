import { describe, expect, it } from "vitest";
import { overwrittenFiles, weightsInUseError } from "../../../src/deployer/upload/weights-in-use.js";
import type { PlannedFile } from "../../../src/deployer/upload/file-batch.js";
import { decide } from "../../../src/deployer/upload/plan.js";
import { buildManifest } from "../../../src/artifacts/manifest.js";
import { lifecycleRules } from "../../../src/infra/desired.js";
import { projectNames } from "../../../src/infra/names.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
function planned(path: string, local: { size: number; sha256: string }, remote?: { size: number; metadata: Record<string, string> }): PlannedFile {
  const identity = { size: local.size, mtimeMs: 0, ctimeMs: 0, ino: 1 };
  return { file: { path, absolutePath: `/w/${path}`, size: local.size }, local: { ...local, chunks: [] }, identity, remote, decision: decide(local, remote) };
}

describe("which files an upload would give other bytes (the refusal while a worker serves the model)", () => {
  const previous = buildManifest("m", [{ path: "re-put.bin", size: 10, sha256: A, chunks: [A] }], new Date(0), "0.1.0");
  it.each([
    ["an identical file (skipped)", planned("same.bin", { size: 10, sha256: A }, { size: 10, metadata: { sha256: A } }), false],
    ["a new file (only an addition)", planned("new.bin", { size: 10, sha256: A }), false],
    ["other bytes, per the object's sha256", planned("changed.bin", { size: 10, sha256: B }, { size: 10, metadata: { sha256: A } }), true],
    ["another size", planned("grown.bin", { size: 11, sha256: B }, { size: 10, metadata: { sha256: A } }), true],
    ["another size, not hashed before sending", { ...planned("grown.bin", { size: 11, sha256: B }, { size: 10, metadata: { sha256: A } }), local: undefined }, true],
    ["no metadata, but the manifest vouches for the same bytes", planned("re-put.bin", { size: 10, sha256: A }, { size: 10, metadata: {} }), false],
    ["no metadata, the manifest lists other bytes", planned("re-put.bin", { size: 10, sha256: B }, { size: 10, metadata: {} }), true],
    ["no metadata and nothing vouches for it", planned("unknown.bin", { size: 10, sha256: A }, { size: 10, metadata: {} }), true],
  ])("%s", (_, file, refused) => {
    expect(overwrittenFiles([file], previous)).toEqual(refused ? [file.file.path] : []);
  });

  it("says which files, which workers, and both ways out, with the operator's flags", () => {
    const error = weightsInUseError({ project: "demo", model: "org/m", bucket: "demo-models", from: "./w", region: "eu-west-1" }, ["a", "b", "c", "d"], ["i-1", "i-2"]);
    expect(error).toMatchObject({ kind: "unsafe", code: "weights-in-use" });
    expect(error.message).toMatch(/^Refused: 4 file\(s\) of org\/m would change in s3:\/\/demo-models\/ \(a, b, c and 1 more\) while i-1, i-2 serve org\/m\./);
    expect(error.message).toContain("Nothing was uploaded.");
    expect(error.remedy).toBe("synkti upload model --project-name demo --model <new-model-name> --from ./w --region eu-west-1   # or first: synkti down --project-name demo --region eu-west-1");
  });
});

describe("pinned keys", () => {
  const names = projectNames("demo");
  it("are named by the hash, beside the latest keys, outside checkpoints/", () => {
    expect(names.pinnedBinaryKey(A)).toBe(`bin/synkti-${A}`);
    expect(names.pinnedManifestKey("org/m", B)).toBe(`org/m/manifest-${B}.json`);
    expect(names.pinnedBinaryKey(A).startsWith(names.checkpointsPrefix)).toBe(false);
  });

  it("no lifecycle rule expires them (only checkpoints/ expire; multipart leftovers are aborted)", () => {
    for (const key of [names.pinnedBinaryKey(A), names.pinnedManifestKey("org/m", B)]) {
      const expiring = lifecycleRules(names).filter((r) => r.expirationDays !== undefined && key.startsWith(r.prefix));
      expect(expiring, key).toEqual([]);
    }
  });
});
