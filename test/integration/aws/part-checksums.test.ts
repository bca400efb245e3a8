/**
 * Multipart uploads of weights: each part carries the uploader's own SHA-256 of that chunk (the
 * hash that goes into the manifest), as the checksum S3 verifies and as SigV4's payload hash, so
 * neither the SDK nor the signer hashes a part again on the uploader's main thread; S3 then keeps
 * the composite of those hashes, which a HEAD checks against the manifest. Checked on the wire
 * (fault proxy in front of moto).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkHasher } from "../../../src/artifacts/chunks.js";
import { checksumVerdict, compositeSha256 } from "../../../src/artifacts/s3-checksum.js";
import { createAwsClients } from "../../../src/aws/clients.js";
import { createS3Transfer, type S3Transfer } from "../../../src/aws/s3-transfer.js";
import { silentLogger } from "../../../src/core/log.js";
import { uploadFiles } from "../../../src/deployer/upload/file-batch.js";
import type { FaultProxy } from "../../support/fault-proxy.js";
import { startProxiedMoto, type ProxiedMoto } from "../../support/proxied-moto.js";

const BUCKET = "it-parts-models";
const MiB = 2 ** 20;
const CHUNK = 5 * MiB; // S3's smallest part: three parts from 12 MiB
let aws: ProxiedMoto;
let proxy: FaultProxy;
let transfer: S3Transfer;
const dir = mkdtempSync(path.join(tmpdir(), "synkti-parts-"));

beforeAll(async () => {
  aws = await startProxiedMoto(BUCKET);
  proxy = aws.proxy;
  transfer = await createS3Transfer(createAwsClients({ role: "deployer", region: "us-east-1", maxAttempts: 1 }));
});
afterAll(async () => {
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
const requests = (action: string) =>
  proxy
    .calls()
    .filter((c) => c.request.action === action)
    .map((c) => c.request);

describe("multipart parts carry the uploader's chunk hashes", () => {
  it("each part goes with its manifest chunk's SHA-256 as checksum and signed payload hash; S3's composite is that of the manifest chunks", async () => {
    const bytes = randomBytes(12 * MiB);
    writeFileSync(path.join(dir, "w.bin"), bytes);
    proxy.resetCounts();
    const [outcome] = await uploadFiles(
      { transfer, log: silentLogger, concurrency: 4, chunkSize: CHUNK },
      { bucket: BUCKET, prefix: "m/", files: [{ path: "w.bin", absolutePath: path.join(dir, "w.bin"), size: bytes.length }] },
    );
    const chunks = new ChunkHasher(CHUNK).update(bytes).digest().chunks;
    expect(outcome?.chunks).toEqual(chunks);

    expect(requests("s3:CreateMultipartUpload").map((r) => r.headers["x-amz-checksum-algorithm"])).toEqual(["SHA256"]);
    const parts = requests("s3:UploadPart").sort((a, b) => Number(a.params.partNumber) - Number(b.params.partNumber));
    expect(parts.map((r) => r.headers["x-amz-checksum-sha256"])).toEqual(chunks.map(b64));
    expect(parts.map((r) => r.headers["x-amz-content-sha256"])).toEqual(chunks);
    // No checksum of the SDK's own (CRC32 by default) on top: one hash per part, ours.
    for (const r of parts) expect(Object.keys(r.headers).filter((h) => h.startsWith("x-amz-checksum-"))).toEqual(["x-amz-checksum-sha256"]);

    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "m/w.bin", ChecksumMode: "ENABLED" }));
    expect(Buffer.from(head.ChecksumSHA256!.split("-")[0]!, "base64").toString("hex")).toBe(compositeSha256(chunks));
    expect(checksumVerdict({ checksumSha256: head.ChecksumSHA256!, etag: head.ETag! }, outcome!)).toBe("same");
  });

  it("the value sent is the caller's, not a re-hash by the SDK (a wrong one reaches S3, which would refuse the part)", async () => {
    const wrong = "ab".repeat(32);
    const uploadId = await transfer.createMultipartUpload(BUCKET, "m/tampered.bin", {});
    proxy.resetCounts();
    await transfer.uploadPart({ bucket: BUCKET, key: "m/tampered.bin", uploadId, partNumber: 1, body: randomBytes(MiB), sha256Hex: wrong });
    await transfer.abortIncompleteUpload(BUCKET, { key: "m/tampered.bin", uploadId });
    const [part] = requests("s3:UploadPart");
    expect(part?.headers["x-amz-checksum-sha256"]).toBe(b64(wrong));
    expect(part?.headers["x-amz-content-sha256"]).toBe(wrong);
  });
});
