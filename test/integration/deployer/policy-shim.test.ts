import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client, CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { startPolicyShim, type PolicyShim } from "./policy-shim.js";

let moto: Moto;
let shim: PolicyShim;
beforeAll(async () => {
  moto = await startMoto();
  shim = await startPolicyShim({ target: moto.url });
});
afterAll(async () => {
  await shim?.close();
  await moto?.stop();
});

const DENY_HTTP = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::shim-b", "arn:aws:s3:::shim-b/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
});

describe("bucket-policy shim", () => {
  it("why it exists: moto enforces a conditional Deny unconditionally", async () => {
    const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: "shim-a" }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: "shim-a", Policy: DENY_HTTP.replaceAll("shim-b", "shim-a") }));
    await expect(s3.send(new PutObjectCommand({ Bucket: "shim-a", Key: "k", Body: "v" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });

  it("keeps the policy visible to Get/Put/DeleteBucketPolicy while objects stay readable", async () => {
    const s3 = new S3Client({ ...sdkConfigFor(shim.url), maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: "shim-b" }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: "shim-b", Policy: DENY_HTTP }));
    expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: "shim-b" }))).Policy!)).toEqual(JSON.parse(DENY_HTTP));
    await s3.send(new PutObjectCommand({ Bucket: "shim-b", Key: "k", Body: "v" }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: "shim-b", Key: "k" }))).Body?.transformToString()).toBe("v");
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: "shim-b" }));
    await expect(s3.send(new GetBucketPolicyCommand({ Bucket: "shim-b" }))).rejects.toMatchObject({ name: "NoSuchBucketPolicy" });
    expect(shim.policies()).toEqual({});
  });
});
