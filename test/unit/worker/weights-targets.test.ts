import { describe, expect, it } from "vitest";
import { buildManifest } from "../../../src/artifacts/manifest.js";
import { fileTargets } from "../../../src/worker/weights/targets.js";
import { FetchProgress } from "../../../src/worker/weights/progress.js";
import { silentLogger } from "../../../src/core/log.js";
import { FakeClock } from "../../support/fake-clock.js";

const sha = "a".repeat(64);
const where = { project: "demo", model: "org/m", bucket: "demo-models" };
const manifestOf = (...paths: string[]) => buildManifest("org/m", paths.map((p) => ({ path: p, size: 1, sha256: sha, chunks: [sha] })), new Date(0), "0.1.0");

describe("where the fetch writes each manifest entry", () => {
  it("inside the model folder, under the model's prefix in the bucket", () => {
    expect(fileTargets(manifestOf("a.bin", "sub/b.json"), "/models/org/m", "org/m/", where)).toEqual([
      expect.objectContaining({ absolute: "/models/org/m/a.bin", key: "org/m/a.bin" }),
      expect.objectContaining({ absolute: "/models/org/m/sub/b.json", key: "org/m/sub/b.json" }),
    ]);
  });

  // The schema refuses these when the manifest is parsed; the writer refuses them again on its own.
  it.each([
    ["../x", /'\.\.\/x' has a '\.\.' segment/],
    ["*", /'\*' contains a glob/],
    ["/etc/cron.d/x", /absolute path/],
    ["a//b", /empty segment/],
    ["manifest.json", /the name synkti keeps the manifest under/],
    ["sub", /'sub' is also listed as a folder of another entry/],
  ])("refuses the entry %j, naming it, with the upload as the fix", (bad, message) => {
    let error: { message: string; code: string; remedy?: string } | undefined;
    try {
      fileTargets(manifestOf("ok.bin", "sub/deep/c.json", bad), "/models/org/m", "org/m/", where);
    } catch (caught) {
      error = caught as typeof error;
    }
    expect(error?.code).toBe("weights-manifest-path");
    expect(error?.message).toMatch(message);
    expect(error?.remedy).toBe("synkti upload model --project-name demo --model org/m --from <weights-dir>");
  });
});

describe("the fetch's progress line (the boot log)", () => {
  it("says how much is verified, how fast, and how many chunks", async () => {
    const clock = new FakeClock(0);
    const progress = new FetchProgress({ clock, log: silentLogger }, 15e9, 224);
    await clock.advance(10_000);
    progress.fetchedBytes = 6e9;
    progress.verifiedOnDiskBytes = 1.5e9;
    progress.chunksDone = 112;
    expect(progress.line()).toBe("weights: 7.5 of 15.0 GB (50%), 600 MB/s, 112 of 224 chunks verified");
  });
});
