/**
 * The repair's two cheap AWS primitives against moto: a claim created by exactly one of many racing
 * callers (PutObject If-None-Match: *), a small document read only when it changed (GetObject
 * If-None-Match: <etag>), and one instance checked by id (DescribeInstances InstanceIds=[id]), where
 * an id EC2 does not know is "gone" (as dead as terminated), not an error.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClients, type AwsClients } from "../../../src/aws/clients.js";
import { createEc2Peers } from "../../../src/aws/ec2-peers.js";
import { createConditionalObjects } from "../../../src/aws/s3-conditional.js";
import type { AwsRequestInfo, FaultProxy } from "../../support/fault-proxy.js";
import type { Moto } from "../../support/moto.js";
import { startProxiedMoto, type ProxiedMoto } from "../../support/proxied-moto.js";
import { ec2For } from "../worker/harness.js";

const MOTO_ACCOUNT = "123456789012";
const BUCKET = "it-conditional-models";
let aws: ProxiedMoto;
let moto: Moto;
let proxy: FaultProxy;
let clients: AwsClients;
let s3: S3Client;

beforeAll(async () => {
  aws = await startProxiedMoto(BUCKET);
  ({ moto, proxy, s3 } = aws);
  clients = createAwsClients({ role: "worker", region: "us-east-1" });
});
afterAll(async () => {
  await aws?.close();
});

describe("putIfAbsent", () => {
  it("of 8 callers racing for one key exactly one creates it; the object is that caller's body", async () => {
    const objects = createConditionalObjects(clients);
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, n) => objects.putIfAbsent(BUCKET, "checkpoints/claims/0-i-race", JSON.stringify({ claimer: `m${n}` }))));
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "exists")).toHaveLength(7);
    const winner = outcomes.indexOf("created");
    const read = await objects.readIfChanged(BUCKET, "checkpoints/claims/0-i-race", { maxBytes: 1024 });
    expect(read).toMatchObject({ kind: "changed", text: JSON.stringify({ claimer: `m${winner}` }) });
  });

  it("carries the caller's account as the expected bucket owner", async () => {
    const seen: AwsRequestInfo[] = [];
    const rule = proxy.addRule({ action: "s3:PutObject", when: (r) => (seen.push(r), false) });
    await createConditionalObjects(clients).putIfAbsent(BUCKET, "checkpoints/claims/1-i-owner", "{}");
    proxy.removeRule(rule);
    expect(seen.map((r) => [r.headers["if-none-match"], r.headers["x-amz-expected-bucket-owner"]])).toEqual([["*", MOTO_ACCOUNT]]);
  });
});

describe("readIfChanged", () => {
  it("absent, then the document with its ETag, then unchanged for that ETag, then the new one", async () => {
    const objects = createConditionalObjects(clients);
    const key = "cluster/desired.json";
    expect(await objects.readIfChanged(BUCKET, key, { maxBytes: 4096 })).toEqual({ kind: "absent" });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{"workers":3,"setAt":"2026-01-01T00:00:00Z"}' }));
    const first = await objects.readIfChanged(BUCKET, key, { maxBytes: 4096 });
    expect(first).toMatchObject({ kind: "changed", text: '{"workers":3,"setAt":"2026-01-01T00:00:00Z"}' });
    const etag = first.kind === "changed" ? first.etag : undefined;
    expect(etag).toBeTruthy();
    expect(await objects.readIfChanged(BUCKET, key, { etag, maxBytes: 4096 })).toEqual({ kind: "unchanged" });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{"workers":2,"setAt":"2026-01-02T00:00:00Z"}' }));
    expect(await objects.readIfChanged(BUCKET, key, { etag, maxBytes: 4096 })).toMatchObject({ kind: "changed", text: '{"workers":2,"setAt":"2026-01-02T00:00:00Z"}' });
  });

  it("an oversized object: only maxBytes + 1 bytes come back, and its whole size says it is too large", async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "cluster/huge.json", Body: "x".repeat(100_000) }));
    const read = await createConditionalObjects(clients).readIfChanged(BUCKET, "cluster/huge.json", { maxBytes: 4096 });
    expect(read.kind === "changed" && [read.text.length, read.size]).toEqual([4097, 100_000]);
  });
});

describe("describeOne", () => {
  it("running, stopped and terminated instances with their tags; an unknown id is gone", async () => {
    const ec2 = ec2For(moto.url);
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: "ami-12c6146b", InstanceType: "g5.xlarge", MinCount: 3, MaxCount: 3, TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiSlot", Value: "2" }] }] }),
    );
    const [running, stopped, terminated] = run.Instances!.map((i) => i.InstanceId!);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped!] }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [terminated!] }));
    ec2.destroy();
    const peers = createEc2Peers(clients);
    const checks = await Promise.all([running!, stopped!, terminated!, "i-0123456789abcdef0"].map((id) => peers.describeOne(id)));
    expect(checks.map((c) => (c === "gone" ? c : [c.state, c.tags.SynktiSlot]))).toEqual([["running", "2"], ["stopped", "2"], ["terminated", "2"], "gone"]);
  });
});
