/**
 * Failure records and boot logs in a real (moto) bucket, read through the SDK the way status and
 * `synkti logs` read them: ranged reads that never take more than the cap, LastModified from the
 * listing, a missing bucket or a refused listing that leaves status standing.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createObjectReader } from "../../../src/aws/s3-objects.js";
import { systemClock } from "../../../src/core/clock.js";
import { recentFailures } from "../../../src/deployer/logs/failures.js";
import { workerLogs } from "../../../src/deployer/logs/show.js";
import { LOG_MAX_BYTES } from "../../../src/deployer/logs/record.js";
import { projectNames } from "../../../src/infra/names.js";
import { silentLogger } from "../../../src/core/log.js";
import { infraUp } from "../../../src/infra/up.js";
import { startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const put = (bucket: string, Key: string, Body: string) => h.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Buffer.from(Body) }));
const id = (n: number) => `i-${n.toString(16).padStart(17, "0")}`;

describe("failure records and logs in S3 (moto)", () => {
  it("status lists the recorded failures; logs prints one worker's record and the tail of its log", async () => {
    const names = projectNames("it-logs");
    await infraUp({ clients: h.clients, log: silentLogger, clock: systemClock }, names);
    for (let n = 1; n <= 7; n++) {
      await put(names.bucket, names.failureRecordKey(id(n)), JSON.stringify({ instanceId: id(n), at: new Date().toISOString(), exitCode: 1, reason: `failure ${n}` }));
    }
    const log = Array.from({ length: 4000 }, (_, n) => `synkti-boot: line ${n}`).join("\n") + "\nsynkti-boot: FATAL: binary SHA-256 mismatch\n";
    await put(names.bucket, names.bootLogKey(id(7)), log);
    await put(names.bucket, names.bootLogKey(id(8)), ""); // a running worker's log, empty so far

    // Every read names the caller's account as the bucket owner (a same-named bucket of another account is refused).
    const ownerless = h.proxy.addRule({ action: /^s3:(ListObjectsV2|GetObject)$/, when: (r) => !r.headers["x-amz-expected-bucket-owner"], error: "access-denied" });
    const objects = createObjectReader(h.clients);
    const { failures, unavailable } = await recentFailures({ objects, clock: systemClock }, names);
    expect(unavailable).toBeNull();
    expect(failures).toHaveLength(5);
    expect(failures.every((f) => /^failure \d$/.test(f.reason) && f.exitCode === 1)).toBe(true);

    const logs = await workerLogs({ objects }, names, id(7));
    expect(logs.failure).toMatchObject({ instanceId: id(7), exitCode: 1, reason: "failure 7" });
    expect(logs.logSize).toBe(Buffer.byteLength(log));
    expect(logs.logCut).toBe(LOG_MAX_BYTES);
    expect(logs.log!.endsWith("synkti-boot: FATAL: binary SHA-256 mismatch\n")).toBe(true);
    expect(logs.log).toMatch(/^synkti-boot: line \d+\n/);

    expect(await workerLogs({ objects }, names, id(8))).toMatchObject({ failure: null, log: "", logSize: 0 });
    await expect(workerLogs({ objects }, names, id(99))).rejects.toMatchObject({ kind: "unsafe", code: "no-logs" });
    expect(h.proxy.ruleHits(ownerless)).toBe(0);
    expect(h.proxy.counts()["s3:GetObject"]).toBeGreaterThan(0);
    h.proxy.removeRule(ownerless);
  });

  it("a project without a bucket: failures are unavailable, with why and the fix", async () => {
    const names = projectNames("it-logs-nobucket");
    const result = await recentFailures({ objects: createObjectReader(h.clients), clock: systemClock }, names);
    expect(result).toEqual({ failures: [], unavailable: "bucket it-logs-nobucket-models does not exist (synkti infra up --project-name it-logs-nobucket)" });
  });

  it("S3 refusing the listing (AccessDenied from the proxy) leaves failures unavailable, not an error", async () => {
    const names = projectNames("it-logs");
    const rule = h.proxy.addRule({ action: "s3:ListObjectsV2", error: "access-denied" });
    try {
      const result = await recentFailures({ objects: createObjectReader(h.clients), clock: systemClock }, names);
      expect(result.failures).toEqual([]);
      expect(result.unavailable).toMatch(/AWS refused the request while listing failure records in s3:\/\/it-logs-models\/checkpoints\/logs\//);
    } finally {
      expect(h.proxy.ruleHits(rule)).toBeGreaterThan(0);
      h.proxy.removeRule(rule);
    }
  });
});
