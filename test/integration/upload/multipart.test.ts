/**
 * synkti's multipart writer against moto behind the fault proxy: a part refused mid-upload and
 * Ctrl-C mid-upload each end with the upload aborted by the writer itself (no sweep: uploadFiles
 * alone), so S3 lists no incomplete multipart upload, which it would bill.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HeadObjectCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { createS3Transfer, type S3Transfer } from "../../../src/aws/s3-transfer.js";
import { silentLogger } from "../../../src/core/log.js";
import { uploadFiles } from "../../../src/deployer/upload/file-batch.js";
import type { LocalFile } from "../../../src/deployer/upload/local-files.js";
import { startProxiedMoto, type ProxiedMoto } from "../../support/proxied-moto.js";

const BUCKET = "it-multipart-models";
const MiB = 2 ** 20;
const CHUNK = 5 * MiB;
let aws: ProxiedMoto;
let transfer: S3Transfer;
const dir = mkdtempSync(path.join(tmpdir(), "synkti-multipart-it-"));

beforeAll(async () => {
  aws = await startProxiedMoto(BUCKET);
  transfer = await createS3Transfer(createAwsClients({ role: "deployer", region: "us-east-1", maxAttempts: 1 }));
});
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  aws.proxy.clearRules();
  aws.proxy.resetCounts();
});

function weights(name: string, size: number): LocalFile {
  const absolutePath = path.join(dir, name);
  writeFileSync(absolutePath, randomBytes(size));
  return { path: name, absolutePath, size };
}

const incomplete = async () => (await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
const exists = (key: string) => aws.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(() => true, () => false);
const isPart = (n: number) => (r: { params: Record<string, string> }) => r.params.partNumber === String(n);

describe("a multipart upload that does not finish", () => {
  it("a part S3 refuses fails the upload, naming the part, and leaves no incomplete multipart upload", async () => {
    const file = weights("refused.bin", 4 * CHUNK);
    aws.proxy.addRule({ action: "s3:UploadPart", when: isPart(2), error: "server-error" });
    const error = await uploadFiles({ transfer, log: silentLogger, concurrency: 2, chunkSize: CHUNK }, { bucket: BUCKET, prefix: "m/", files: [file] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "aws-error", remedy: expect.any(String) });
    expect((error as Error).message).toContain(`uploading part 2 of s3://${BUCKET}/m/refused.bin (InternalError)`);
    expect(await incomplete()).toEqual([]);
    expect(aws.proxy.counts()).toMatchObject({ "s3:AbortMultipartUpload": 1 });
    expect(aws.proxy.counts()["s3:CompleteMultipartUpload"]).toBeUndefined();
    expect(await exists("m/refused.bin")).toBe(false);
  });

  it("Ctrl-C while parts are on the wire: the upload is aborted at once, nothing left to bill", { timeout: 30_000 }, async () => {
    const file = weights("interrupted.bin", 4 * CHUNK);
    aws.proxy.addRule({ action: "s3:UploadPart", when: isPart(3), delayMs: 20_000 }); // part 3 hangs
    const controller = new AbortController();
    const progress = { begin() {}, fileProgress: () => setTimeout(() => controller.abort(new Error("ctrl-c")), 200), fileDone() {}, end() {} };
    const started = Date.now();
    const error = await uploadFiles(
      { transfer, log: silentLogger, concurrency: 2, chunkSize: CHUNK, signal: controller.signal, progress },
      { bucket: BUCKET, prefix: "m/", files: [file] },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe("ctrl-c");
    expect(Date.now() - started).toBeLessThan(15_000); // not held up by the hanging part
    expect(await incomplete()).toEqual([]);
    expect(aws.proxy.counts()).toMatchObject({ "s3:AbortMultipartUpload": 1 });
    expect(await exists("m/interrupted.bin")).toBe(false);
  });
});
