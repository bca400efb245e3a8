/**
 * Multipart uploads of weights: each part carries the uploader's own SHA-256 of that chunk (the
 * hash that goes into the manifest), as the checksum S3 verifies and as SigV4's payload hash, so
 * the SDK does not hash every part twice more on the uploader's main thread. Checked on the wire
 * (fault proxy in front of moto).
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkHasher } from "../../../src/artifacts/chunks.js";
import { createAwsClients } from "../../../src/aws/clients.js";
import { createS3Transfer, type S3Transfer } from "../../../src/aws/s3-transfer.js";
import type { FaultProxy } from "../../support/fault-proxy.js";
import { startProxiedMoto, type ProxiedMoto } from "../../support/proxied-moto.js";

const BUCKET = "it-parts-models";
const MiB = 2 ** 20;
let aws: ProxiedMoto;
let proxy: FaultProxy;
let transfer: S3Transfer;

beforeAll(async () => {
  aws = await startProxiedMoto(BUCKET);
  proxy = aws.proxy;
  transfer = await createS3Transfer(createAwsClients({ role: "deployer", region: "us-east-1", maxAttempts: 1 }));
});
afterAll(async () => {
  await aws?.close();
});

const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

async function upload(key: string, bytes: Buffer, partSha256: (n: number) => string | undefined) {
  proxy.resetCounts();
  await transfer.uploadStream({ bucket: BUCKET, key, body: Readable.from([bytes]), size: bytes.length, metadata: {}, partSize: 16 * MiB, queueSize: 2, partSha256 });
  return proxy
    .calls()
    .filter((c) => c.request.action === "s3:UploadPart")
    .map((c) => c.request.headers);
}

describe("multipart parts carry the uploader's chunk hashes", () => {
  it("each full part goes with the SHA-256 the uploader computed for that chunk, as its checksum and its signed payload hash", async () => {
    const bytes = randomBytes(40 * MiB);
    const chunks = new ChunkHasher(16 * MiB).update(bytes).digest().chunks;
    const asked: number[] = [];
    const parts = await upload("m/three-parts.bin", bytes, (n) => (asked.push(n), chunks[n - 1]));
    expect(parts).toHaveLength(3);
    const sent = parts.map((h) => h["x-amz-checksum-sha256"]).sort();
    expect(sent).toEqual(chunks.map(b64).sort());
    for (const h of parts) expect(Buffer.from(h["x-amz-checksum-sha256"]!, "base64").toString("hex")).toBe(h["x-amz-content-sha256"]);
    expect(asked.sort()).toEqual([1, 2, 3]);
  });

  it("the value sent is the uploader's, not a re-hash by the SDK (a wrong one reaches S3, which would refuse the part)", async () => {
    const bytes = randomBytes(20 * MiB);
    const wrong = "ab".repeat(32);
    const parts = await upload("m/tampered.bin", bytes, (n) => (n === 1 ? wrong : undefined));
    const first = parts.find((h) => h["x-amz-checksum-sha256"] === b64(wrong));
    expect(first?.["x-amz-content-sha256"]).toBe(wrong);
    // Part 2 had no hash ready: the SDK hashed it itself, as before.
    const second = parts.find((h) => h !== first)!;
    expect(second["x-amz-checksum-sha256"]).toBe(b64(new ChunkHasher(16 * MiB).update(bytes.subarray(16 * MiB)).digest().chunks[0]!));
  });
});
