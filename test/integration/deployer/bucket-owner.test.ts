/**
 * Bucket names are global: synkti's S3 requests name the caller's own account as the bucket's
 * expected owner, so a `<project>-models` created by another account is refused by AWS instead of
 * receiving the weights. moto ignores the expected owner, so the fault proxy in front of it plays
 * AWS's part: it refuses (403) a request whose expected owner is not the bucket's owner.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { uploadModel } from "../../../src/deployer/upload/index.js";
import { infraUp } from "../../../src/infra/index.js";
import { projectNames } from "../../../src/infra/names.js";
import type { AwsRequestInfo } from "../../support/fault-proxy.js";
import { startHarness, type Harness } from "./harness.js";

const MOTO_ACCOUNT = "123456789012";
/** Operations without an ExpectedBucketOwner field in the S3 API. */
const WITHOUT_OWNER = new Set(["CreateBucket", "ListBuckets"]);

let h: Harness;
let weights: string;
beforeAll(async () => {
  h = await startHarness();
  weights = mkdtempSync(path.join(tmpdir(), "synkti-owner-"));
  mkdirSync(path.join(weights, "weights"));
  writeFileSync(path.join(weights, "config.json"), '{"layers":2}\n');
  writeFileSync(path.join(weights, "weights", "part-0.safetensors"), Buffer.alloc(17 * 1024 * 1024, 3)); // multipart: over one 16 MiB chunk
});
afterAll(async () => {
  rmSync(weights, { recursive: true, force: true });
  await h?.close();
});

const deps = () => ({ clients: h.clients, log: silentLogger, clock: systemClock });
const owner = (r: AwsRequestInfo) => r.headers["x-amz-expected-bucket-owner"];

describe("S3 requests expect the caller's own account as the bucket owner", () => {
  it("infra up and a multipart model upload: every S3 request that can carry it names the caller's account", async () => {
    const seen: AwsRequestInfo[] = [];
    const rule = h.proxy.addRule({ action: /^s3:/, when: (r) => (seen.push(r), false) });
    const names = projectNames("it-owner");
    await infraUp(deps(), names);
    await uploadModel(deps(), { names, model: "tiny", from: weights, concurrency: 2 });
    h.proxy.removeRule(rule);

    const operations = new Set(seen.map((r) => r.operation));
    expect([...operations]).toEqual(expect.arrayContaining(["HeadBucket", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "PutObject"]));
    const missing = seen.filter((r) => !WITHOUT_OWNER.has(r.operation) && owner(r) !== MOTO_ACCOUNT).map((r) => `${r.operation}: ${owner(r) ?? "none"}`);
    expect(missing).toEqual([]);
  });

  it("a bucket of that name owned by another account: the upload is refused and nothing lands in it", async () => {
    const names = projectNames("it-owner-squatted");
    await infraUp(deps(), names);
    // From here on, AWS would say the bucket belongs to another account.
    const rule = h.proxy.addRule({ action: /^s3:/, when: (r) => owner(r) !== undefined && owner(r) !== "999999999999", error: "access-denied" });
    try {
      await expect(uploadModel(deps(), { names, model: "tiny", from: weights, concurrency: 2 })).rejects.toMatchObject({
        code: "bucket-forbidden",
        message: expect.stringContaining("another AWS account owns the name"),
        remedy: "synkti infra status --project-name it-owner-squatted",
      });
    } finally {
      h.proxy.removeRule(rule);
    }
    const listed = await h.s3.send(new ListObjectsV2Command({ Bucket: names.bucket }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it("expired credentials are said to be expired credentials, not another account's bucket", async () => {
    const names = projectNames("it-owner-expired");
    await infraUp(deps(), names);
    // A fresh process: its first S3 request asks STS for the account, and STS refuses the token.
    const fresh = { ...deps(), clients: createAwsClients({ role: "deployer", maxAttempts: 1 }) };
    const rule = h.proxy.addRule({ action: "sts:GetCallerIdentity", error: { code: "ExpiredToken", message: "The security token included in the request is expired", status: 403 } });
    try {
      const failure = await uploadModel(fresh, { names, model: "tiny", from: weights, concurrency: 2 }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: "aws-auth", message: expect.stringMatching(/asking AWS STS whose credentials these are \(ExpiredToken\)/) });
      expect(String((failure as Error).message)).not.toMatch(/another AWS account/);
    } finally {
      h.proxy.removeRule(rule);
    }
  });
});
