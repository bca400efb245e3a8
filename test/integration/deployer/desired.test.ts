/**
 * cluster/desired.json against moto (through the fault proxy): the deployer's conditional writes
 * (If-None-Match: * when absent, If-Match: <etag> when replacing), what happens when another
 * deployer writes in between (412: read again, say so, overwrite nothing), ExpectedBucketOwner on
 * every request; and `synkti down` with CreateTags refused or throttled: desired 0 first, then
 * every instance terminated all the same.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createConditionalObjects } from "../../../src/aws/s3-conditional.js";
import { createReplaceObjects } from "../../../src/aws/s3-replace.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { readDesired, restoreDesired, writeDesired } from "../../../src/deployer/desired/store.js";
import { downProject } from "../../../src/deployer/fleet/index.js";
import { projectNames } from "../../../src/infra/names.js";
import type { AwsRequestInfo } from "../../support/fault-proxy.js";
import { startHarness, taggedInstance, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => h.proxy.clearRules());

const deps = () => ({ conditional: { ...createConditionalObjects(h.clients), ...createReplaceObjects(h.clients) }, clock: systemClock, log: silentLogger });
async function bucketFor(project: string) {
  const names = projectNames(project);
  await h.s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
  return names;
}
const stored = async (bucket: string, key: string) => JSON.parse(await (await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());
/** Records every S3 request the code under test makes (the rule never fires). */
const recordS3 = () => {
  const seen: AwsRequestInfo[] = [];
  h.proxy.addRule({ action: /^s3:/, when: (r) => (seen.push(r), false) });
  return seen;
};

describe("the desired size's conditional writes (moto)", () => {
  it("created with If-None-Match: *, replaced with If-Match: <etag>, every request expecting the caller's account", async () => {
    const names = await bucketFor("it-desired");
    const seen = recordS3();
    const first = await writeDesired(deps(), names, 3, await readDesired(deps(), names), { onConflict: "refuse", rerun: "x" });
    const second = await writeDesired(deps(), names, 2, await readDesired(deps(), names), { onConflict: "refuse", rerun: "x" });
    expect(await stored(names.bucket, names.desiredKey)).toEqual(second.desired);
    expect(second.desired.workers).toBe(2);
    expect(Date.parse(second.desired.setAt)).toBeGreaterThan(Date.parse(first.desired.setAt)); // a new generation, always later
    const puts = seen.filter((r) => r.operation === "PutObject");
    expect(puts.map((r) => [r.headers["if-none-match"], r.headers["if-match"]?.length])).toEqual([
      ["*", undefined],
      [undefined, expect.any(Number)],
    ]);
    expect(seen.filter((r) => r.headers["x-amz-expected-bucket-owner"] !== "123456789012")).toEqual([]);
  });

  it("another deployer wrote after the read (412 on If-Match): nothing is overwritten, and the error says what is there now", async () => {
    const names = await bucketFor("it-desired-race");
    await writeDesired(deps(), names, 3, { status: "absent" }, { onConflict: "refuse", rerun: "x" });
    const read = await readDesired(deps(), names);
    const theirs = { workers: 5, setAt: "2030-01-01T00:00:00.000Z" };
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.desiredKey, Body: JSON.stringify(theirs) }));
    const refused = writeDesired(deps(), names, 1, read, { onConflict: "refuse", rerun: "synkti --project-name it-desired-race --model m --workers 1" });
    await expect(refused).rejects.toMatchObject({
      code: "desired-changed",
      kind: "unsafe",
      message: expect.stringContaining("it now says: 5 workers, set at 2030-01-01T00:00:00.000Z"),
      remedy: "synkti --project-name it-desired-race --model m --workers 1",
    });
    expect(await stored(names.bucket, names.desiredKey)).toEqual(theirs);
  });

  it("created by another deployer after a read that found none (412 on If-None-Match: *): refused the same way", async () => {
    const names = await bucketFor("it-desired-create-race");
    const read = await readDesired(deps(), names);
    expect(read).toEqual({ status: "absent" });
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.desiredKey, Body: '{"workers":4,"setAt":"2030-01-01T00:00:00Z"}' }));
    await expect(writeDesired(deps(), names, 2, read, { onConflict: "refuse", rerun: "x" })).rejects.toMatchObject({ code: "desired-changed" });
    expect((await stored(names.bucket, names.desiredKey)).workers).toBe(4);
  });

  it("down's overwrite: a lost race reads again and writes 0 over the fresh version", async () => {
    const names = await bucketFor("it-desired-overwrite");
    const read = await readDesired(deps(), names);
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.desiredKey, Body: '{"workers":4,"setAt":"2030-01-01T00:00:00Z"}' }));
    const written = await writeDesired(deps(), names, 0, read, { onConflict: "overwrite", rerun: "x" });
    expect(written.desired.workers).toBe(0);
    expect(Date.parse(written.desired.setAt)).toBeGreaterThan(Date.parse("2030-01-01T00:00:00Z")); // after the one it replaced
    expect(await stored(names.bucket, names.desiredKey)).toEqual(written.desired);
  });

  it("an undone launch puts the previous document back, unless another deployer wrote since", async () => {
    const names = await bucketFor("it-desired-restore");
    const before = await writeDesired(deps(), names, 2, { status: "absent" }, { onConflict: "refuse", rerun: "x" });
    const raised = await writeDesired(deps(), names, 4, await readDesired(deps(), names), { onConflict: "refuse", rerun: "x" });
    expect(await restoreDesired(deps(), names, raised)).toBe("restored");
    expect(await stored(names.bucket, names.desiredKey)).toEqual(before.desired);
    const again = await writeDesired(deps(), names, 4, await readDesired(deps(), names), { onConflict: "refuse", rerun: "x" });
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.desiredKey, Body: '{"workers":7,"setAt":"2030-01-01T00:00:00Z"}' }));
    expect(await restoreDesired(deps(), names, again)).toBe("changed");
    expect((await stored(names.bucket, names.desiredKey)).workers).toBe(7);
  });

  it("an unreadable document reads as invalid (with its ETag, so it can be replaced); without a bucket the write says to run infra up", async () => {
    const names = await bucketFor("it-desired-invalid");
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.desiredKey, Body: "x".repeat(5000) }));
    const read = await readDesired(deps(), names);
    expect(read).toMatchObject({ status: "invalid", problem: "larger than 4096 bytes" });
    expect((await writeDesired(deps(), names, 1, read, { onConflict: "refuse", rerun: "x" })).desired.workers).toBe(1);
    const nobucket = projectNames("it-desired-nobucket");
    const absent = await readDesired(deps(), nobucket);
    expect(absent).toEqual({ status: "absent" });
    await expect(writeDesired(deps(), nobucket, 1, absent, { onConflict: "refuse", rerun: "x" })).rejects.toMatchObject({ code: "no-bucket", remedy: "synkti infra up --project-name it-desired-nobucket" });
  });
});

describe("synkti down with CreateTags faults (moto through the fault proxy)", () => {
  it.each([
    ["refused (UnauthorizedOperation)", "access-denied"],
    ["throttled (RequestLimitExceeded, every attempt)", "throttle"],
  ] as const)("CreateTags %s: desired 0, then every instance terminated", async (_, fault) => {
    const project = `it-down-tags-${fault}`;
    const names = await bucketFor(project);
    await writeDesired(deps(), names, 3, { status: "absent" }, { onConflict: "refuse", rerun: "x" });
    const ids = await Promise.all(["us-east-1a", "us-east-1b", "us-east-1c"].map((zone) => taggedInstance(h.ec2, zone, { SynktiCluster: project, SynktiRole: "worker" })));
    const rule = h.proxy.addRule({ action: "ec2:CreateTags", error: fault });
    const result = await downProject(h.fleet, { project, intervalMs: 200, drainIntervalMs: 200 });
    expect(h.proxy.ruleHits(rule)).toBeGreaterThan(0); // the fault was met, not skipped
    expect(result).toMatchObject({ remaining: [], error: null, desired: { workers: 0 }, desiredProblem: null });
    expect(result.terminated).toEqual([...ids].sort());
    const listed = (await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances ?? []);
    expect(listed.map((i) => i.State?.Name)).toEqual(["terminated", "terminated", "terminated"]);
    expect(await stored(names.bucket, names.desiredKey)).toEqual(result.desired);
  });
});
