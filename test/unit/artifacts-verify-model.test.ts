import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import type { AwsClients } from "../../src/aws/clients.js";
import { verifyModelInS3 } from "../../src/artifacts/verify-model.js";
import { buildManifest, renderManifest } from "../../src/artifacts/manifest.js";
import { systemClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/log.js";
import { projectNames } from "../../src/infra/names.js";
import { FakeTransfer } from "./upload/fake-transfer.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const names = projectNames("demo");

function bucketWith(manifestText: string, file = "weights") {
  const transfer = new FakeTransfer();
  transfer.objects.set("m/a.bin", { body: Buffer.from(file), metadata: { sha256: sha(file) } });
  transfer.objects.set("m/manifest.json", { body: Buffer.from(manifestText), metadata: {} });
  transfer.objects.set(`m/manifest-${sha(manifestText)}.json`, { body: Buffer.from(manifestText), metadata: {} });
  return { clients: {} as AwsClients, clock: systemClock, log: silentLogger, transfer };
}

describe("preflight's weights check and the manifest version", () => {
  it("passes a version 2 manifest whose files are in S3", async () => {
    const text = renderManifest(buildManifest("m", [{ path: "a.bin", size: 7, sha256: sha("weights"), chunks: [sha("weights")] }], new Date(0), "0.1.0"));
    expect(await verifyModelInS3(bucketWith(text), names, "m")).toMatchObject({ ok: true, files: 1 });
  });

  it("refuses a version 1 manifest (workers could not fetch from it), saying the upload rewrites it", async () => {
    const text = `${JSON.stringify({ model: "m", files: [{ path: "a.bin", size: 7, sha256: sha("weights") }], createdAt: "x", synktiVersion: "0.0.1" })}\n`;
    const seen = await verifyModelInS3(bucketWith(text), names, "m");
    expect(seen.ok).toBe(false);
    expect(seen.manifestProblem).toMatch(/^the manifest is version 1 \(no per-chunk SHA-256\): workers fetch only version 2 manifests; re-running the upload rewrites it/);
  });
});
