/**
 * A failover's timeline, written the way the doomed worker writes it (TimelineRecord through the
 * worker's S3 trace store) and read back the way `synkti status` reads it (listing, bounded read,
 * strict parse), in a real (moto) bucket: the two ends of `checkpoints/failovers/<doomed id>.json`
 * agree, and the reads name the bucket's owner.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createObjectReader } from "../../../src/aws/s3-objects.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { recentFailovers } from "../../../src/deployer/logs/failovers.js";
import { projectTimeline } from "../../../src/failover/timeline.js";
import { projectNames } from "../../../src/infra/names.js";
import { infraUp } from "../../../src/infra/up.js";
import { TimelineRecord } from "../../../src/worker/failover/timeline-record.js";
import { s3TraceStore } from "../../../src/worker/trace/trace-store.js";
import { startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("failover timelines in S3 (moto)", () => {
  it("what the doomed worker writes is what status reads back: doomed -> replacement, each phase, the total", async () => {
    const names = projectNames("it-failovers");
    await infraUp({ clients: h.clients, log: silentLogger, clock: systemClock }, names);
    const doomed = "i-0d00d00d00d00d00d";
    const replacement = "i-0e00e00e00e00e00e";
    const t0 = Date.now() - 100_000;
    const timeline = projectTimeline([
      { at: t0, type: "started", trigger: "spot-interruption" },
      { at: t0, type: "deadline", deadlineAt: t0 + 120_000 },
      { at: t0, type: "phase", phase: "drain", state: "running" },
      { at: t0, type: "phase", phase: "select", state: "running" },
      { at: t0 + 200, type: "phase", phase: "select", state: "done", detail: "g5.xlarge/us-east-1b" },
      { at: t0 + 200, type: "phase", phase: "spawn", state: "running" },
      { at: t0 + 900, type: "replacement", instanceId: replacement },
      { at: t0 + 900, type: "phase", phase: "spawn", state: "done", detail: `launched ${replacement}` },
      { at: t0 + 900, type: "phase", phase: "health", state: "running" },
      { at: t0 + 8_000, type: "phase", phase: "drain", state: "done", detail: "0 in flight" },
      { at: t0 + 61_000, type: "phase", phase: "health", state: "done", detail: "serving, target healthy" },
    ]);
    const record = new TimelineRecord({ store: s3TraceStore(h.clients, names.bucket), clock: systemClock, log: silentLogger }, { key: names.failoverKey(doomed), retryMs: 200 });
    record.set({ doomed, status: "retired", ...timeline });
    expect(await record.close(10_000)).toBe(true);

    const ownerless = h.proxy.addRule({ action: /^s3:(ListObjectsV2|GetObject)$/, when: (r) => !r.headers["x-amz-expected-bucket-owner"], error: "access-denied" });
    try {
      const { failovers, unavailable } = await recentFailovers({ objects: createObjectReader(h.clients), clock: systemClock }, names);
      expect(unavailable).toBeNull();
      expect(failovers).toEqual([
        expect.objectContaining({ doomed, replacement, trigger: "spot-interruption", status: "retired", totalSeconds: 61, problem: null, deadlineAt: new Date(t0 + 120_000).toISOString() }),
      ]);
      expect(failovers[0]!.phases).toEqual(timeline.phases);
    } finally {
      h.proxy.removeRule(ownerless);
    }
  });
});
