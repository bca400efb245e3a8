import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { EC2Client, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { writeFileSync } from "node:fs";
import { sdkConfigFor } from "../../support/moto.js";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyModelInS3 } from "../../../src/artifacts/index.js";
import { uploadModel } from "../../../src/deployer/upload/index.js";
import { MiB, startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const sha256Of = (text: string) => createHash("sha256").update(text).digest("hex");
// One 11 MiB file exercises multipart (8 MiB parts); the rest are single PUTs.
const FILES = { "model.safetensors": 11 * MiB, "config.json": 300, "tokenizer/tokenizer.json": 40_000 };

/** A pending-or-running worker of `project` serving `model`, as a launch tags it. */
async function liveWorker(project: string, model: string): Promise<{ id: string; end(): Promise<void> }> {
  const ec2 = new EC2Client({ ...sdkConfigFor(h.moto.url), maxAttempts: 1 });
  const tags = [{ Key: "SynktiCluster", Value: project }, { Key: "SynktiRole", Value: "worker" }, { Key: "SynktiModel", Value: model }];
  const out = await ec2.send(new RunInstancesCommand({ ImageId: "ami-12c6146b", InstanceType: "g5.xlarge", MinCount: 1, MaxCount: 1, TagSpecifications: [{ ResourceType: "instance", Tags: tags }] }));
  const id = out.Instances![0]!.InstanceId!;
  return {
    id,
    async end() {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      ec2.destroy();
    },
  };
}

const text = async (bucket: string, key: string) => (await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

describe("upload model against moto", () => {
  it("stores the manifest under its SHA-256 too; a changed model keeps the old hashed manifest", async () => {
    const names = await h.project("up-model-pinned");
    const from = h.weights({ "a.bin": 100, "b.bin": 200 });
    const first = await uploadModel(h.deps(), { names, model: "m", from });
    const firstText = await text(names.bucket, "m/manifest.json");
    expect(first).toMatchObject({ manifestSha256: sha256Of(firstText), pinnedManifestKey: `m/manifest-${sha256Of(firstText)}.json` });
    expect(await text(names.bucket, first.pinnedManifestKey)).toBe(firstText);
    await expect(verifyModelInS3(h.deps(), names, "m")).resolves.toMatchObject({ ok: true, manifestSha256: first.manifestSha256, pinned: { present: true } });

    writeFileSync(path.join(from, "c.bin"), "a new file");
    const second = await uploadModel(h.deps(), { names, model: "m", from });
    expect(second.manifestSha256).not.toBe(first.manifestSha256);
    expect(await text(names.bucket, first.pinnedManifestKey)).toBe(firstText);
    expect(await text(names.bucket, second.pinnedManifestKey)).toBe(await text(names.bucket, "m/manifest.json"));
    // A worker launched with the first manifest checks it as it was (verify by its hash).
    await expect(verifyModelInS3(h.deps(), names, "m", { manifestSha256: first.manifestSha256 })).resolves.toMatchObject({ ok: true, files: 2 });

    // Uploaded by an older synkti (no hashed copy): an unchanged re-run copies it server-side.
    await h.s3.send(new DeleteObjectCommand({ Bucket: names.bucket, Key: second.pinnedManifestKey }));
    await expect(verifyModelInS3(h.deps(), names, "m")).resolves.toMatchObject({ ok: true, pinned: { present: false } });
    await expect(uploadModel(h.deps(), { names, model: "m", from })).resolves.toMatchObject({ status: "unchanged", pinnedManifestKey: second.pinnedManifestKey });
    expect(await text(names.bucket, second.pinnedManifestKey)).toBe(await text(names.bucket, "m/manifest.json"));
  });

  it("refuses to change the bytes of a model a live worker serves (exit 1, nothing written); additions and identical files pass", async () => {
    const names = await h.project("up-model-live");
    const from = h.weights({ "a.bin": 100, "b.bin": 200 });
    const first = await uploadModel(h.deps(), { names, model: "m", from });
    const worker = await liveWorker("up-model-live", "m");
    try {
      writeFileSync(path.join(from, "b.bin"), "other bytes");
      writeFileSync(path.join(from, "new.bin"), "an addition");
      const error = await uploadModel(h.deps(), { names, model: "m", from, region: "us-east-1" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "unsafe", code: "weights-in-use", remedy: `synkti upload model --project-name up-model-live --model <new-model-name> --from ${from} --region us-east-1   # or first: synkti down --project-name up-model-live --region us-east-1` });
      expect((error as Error).message).toContain(`1 file(s) of m would change in s3://up-model-live-models/ (b.bin) while ${worker.id} serves m`);
      // Nothing changed: no new file, the old bytes, the same manifest.
      await expect(h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: "m/new.bin" }))).rejects.toMatchObject({ name: "NotFound" });
      expect((await h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: "m/b.bin" }))).ContentLength).toBe(200);
      expect(sha256Of(await text(names.bucket, "m/manifest.json"))).toBe(first.manifestSha256);

      // Another model of the project, or only additions to this one: allowed while it serves.
      await expect(uploadModel(h.deps(), { names, model: "m-v2", from })).resolves.toMatchObject({ status: "uploaded" });
      const additions = h.weights({ "a.bin": 1 });
      writeFileSync(path.join(additions, "a.bin"), readFileSync(path.join(from, "a.bin")));
      writeFileSync(path.join(additions, "extra.bin"), "more");
      await expect(uploadModel(h.deps(), { names, model: "m", from: additions })).resolves.toMatchObject({ status: "uploaded", uploaded: ["extra.bin"], skipped: ["a.bin"] });
    } finally {
      await worker.end();
    }
    // Once no worker serves it, the same upload goes through.
    await expect(uploadModel(h.deps(), { names, model: "m", from })).resolves.toMatchObject({ status: "uploaded" });
  });

  it("uploads every file with its sha256, then a manifest that lists them all", async () => {
    const names = await h.project("up-model-a");
    const from = h.weights(FILES);
    const result = await uploadModel(h.deps(), { names, model: "Org/tiny-1", from, concurrency: 4 });
    expect(result).toMatchObject({ status: "uploaded", files: 3, skipped: [], abortedIncompleteUploads: 0 });
    expect(result.uploaded.sort()).toEqual(["config.json", "model.safetensors", "tokenizer/tokenizer.json"]);

    for (const rel of Object.keys(FILES)) {
      const head = await h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: `Org/tiny-1/${rel}`, ChecksumMode: "ENABLED" }));
      expect(head.Metadata?.sha256).toBe(sha(path.join(from, rel)));
      expect(head.ChecksumSHA256).toBeTruthy(); // S3's own per-part (or whole-object) checksum
    }
    const manifest = JSON.parse(await (await h.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: "Org/tiny-1/manifest.json" }))).Body!.transformToString());
    expect(manifest).toMatchObject({ model: "Org/tiny-1", synktiVersion: expect.any(String), createdAt: expect.any(String) });
    expect(manifest.files).toEqual(
      // Files under one 16 MiB chunk: their one chunk hash is the file's.
      Object.keys(FILES).sort().map((rel) => ({ path: rel, size: FILES[rel as keyof typeof FILES], sha256: sha(path.join(from, rel)), chunks: [sha(path.join(from, rel))] })),
    );
    await expect(verifyModelInS3(h.deps(), names, "Org/tiny-1")).resolves.toMatchObject({ ok: true, manifestPresent: true, files: 3, missing: [], mismatched: [] });

    const again = await uploadModel(h.deps(), { names, model: "Org/tiny-1", from });
    expect(again).toMatchObject({ status: "unchanged", uploaded: [], uploadedBytes: 0 });
    expect(again.skipped).toHaveLength(3);
  });

  it("verify finds a deleted and a replaced file; a re-run repairs exactly those", async () => {
    const names = await h.project("up-model-b");
    const from = h.weights(FILES);
    await uploadModel(h.deps(), { names, model: "tiny", from });
    await h.s3.send(new DeleteObjectCommand({ Bucket: names.bucket, Key: "tiny/config.json" }));
    // Same size, other bytes, no metadata: what `aws s3 cp` over the object would leave.
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: "tiny/tokenizer/tokenizer.json", Body: Buffer.alloc(40_000) }));

    const broken = await verifyModelInS3(h.deps(), names, "tiny");
    expect(broken).toMatchObject({ ok: false, manifestPresent: true, missing: ["config.json"], mismatched: ["tokenizer/tokenizer.json"] });
    expect(broken.problems).toEqual(["config.json: missing in S3", "tokenizer/tokenizer.json: no sha256 metadata or SHA-256 checksum in S3"]);

    const repair = await uploadModel(h.deps(), { names, model: "tiny", from });
    expect(repair.uploaded.sort()).toEqual(["config.json", "tokenizer/tokenizer.json"]);
    expect(repair.skipped).toEqual(["model.safetensors"]);
    await expect(verifyModelInS3(h.deps(), names, "tiny")).resolves.toMatchObject({ ok: true });
  });

  it("verify reports a missing manifest and a manifest that is not one", async () => {
    const names = await h.project("up-model-c");
    await expect(verifyModelInS3(h.deps(), names, "nothing")).resolves.toMatchObject({ ok: false, manifestPresent: false });
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: "junk/manifest.json", Body: "{ nope" }));
    await expect(verifyModelInS3(h.deps(), names, "junk")).resolves.toMatchObject({ ok: false, manifestPresent: true, manifestProblem: expect.stringMatching(/not valid JSON/) });
  });

  it("interrupted mid-upload: no manifest, no incomplete multipart upload left; a re-run resumes", async () => {
    const names = await h.project("up-model-d");
    // Files go largest first: "big" is complete when "cut" (over one 16 MiB chunk: a multipart
    // upload, parts of one chunk each) is interrupted after its first part.
    const from = h.weights({ "big.safetensors": 33 * MiB, "cut.safetensors": 17 * MiB });
    const controller = new AbortController();
    const progress = {
      begin() {},
      fileProgress: (p: string) => p === "cut.safetensors" && controller.abort(new Error("ctrl-c")), // after the first part
      fileDone() {},
      end() {},
    };
    const error = await uploadModel(h.deps(), { names, model: "m", from, concurrency: 1, signal: controller.signal, progress }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "interrupted", remedy: `synkti upload model --project-name up-model-d --model m --from ${from}` });
    expect((error as Error).message).toMatch(/Re-running the same command resumes/);
    const listing = await h.s3.send(new ListMultipartUploadsCommand({ Bucket: names.bucket }));
    expect(listing.Uploads ?? []).toEqual([]);
    await expect(verifyModelInS3(h.deps(), names, "m")).resolves.toMatchObject({ manifestPresent: false });

    const resumed = await uploadModel(h.deps(), { names, model: "m", from });
    expect(resumed.uploaded).toEqual(["cut.safetensors"]);
    expect(resumed.skipped).toEqual(["big.safetensors"]);
    await expect(verifyModelInS3(h.deps(), names, "m")).resolves.toMatchObject({ ok: true, files: 2 });
  });

  it("weights over one chunk go up while hashed, without metadata: S3's composite checksum vouches for them", async () => {
    const names = await h.project("up-model-f");
    const from = h.weights({ "big.safetensors": 40 * MiB });
    const first = await uploadModel(h.deps(), { names, model: "m", from });
    expect(first.uploaded).toEqual(["big.safetensors"]);
    const head = await h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: "m/big.safetensors", ChecksumMode: "ENABLED" }));
    expect(head.Metadata ?? {}).toEqual({}); // S3 fixes metadata before the first byte, when the hash is not known yet
    expect(head.ChecksumSHA256).toBeDefined();
    await expect(verifyModelInS3(h.deps(), names, "m")).resolves.toMatchObject({ ok: true });
    // No hash cache here: the re-run hashes the file (same size in S3) and the checksum says "same".
    await expect(uploadModel(h.deps(), { names, model: "m", from })).resolves.toMatchObject({ status: "unchanged", skipped: ["big.safetensors"] });
    // Other bytes of the same size, put as one object with a SHA-256 checksum: refused, then repaired.
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: "m/big.safetensors", Body: Buffer.alloc(40 * MiB), ChecksumAlgorithm: "SHA256" }));
    await expect(verifyModelInS3(h.deps(), names, "m")).resolves.toMatchObject({ ok: false, problems: ["big.safetensors: S3's SHA-256 checksum differs from the manifest"] });
    await expect(uploadModel(h.deps(), { names, model: "m", from })).resolves.toMatchObject({ uploaded: ["big.safetensors"] });
    await expect(verifyModelInS3(h.deps(), names, "m")).resolves.toMatchObject({ ok: true });
  });

  it("refuses with the infra command when the bucket does not exist (exit 1)", async () => {
    const names = await h.project("up-model-e", { bucket: false });
    const from = h.weights({ "a.bin": 10 });
    await expect(uploadModel(h.deps(), { names, model: "m", from, region: "eu-west-1" })).rejects.toMatchObject({
      kind: "unsafe",
      code: "bucket-missing",
      remedy: "synkti infra up --project-name up-model-e --region eu-west-1",
    });
  });
});
