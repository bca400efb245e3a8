import { describe, expect, it } from "vitest";
import type { InstanceSummary } from "../../../src/aws/ec2-instances.js";
import { earlyReplacementRoom, fleetFacts } from "../../../src/worker/failover/early-room.js";

const inst = (id: string, over: Partial<InstanceSummary> = {}, tags: Record<string, string> = {}): InstanceSummary => ({
  instanceId: id,
  state: "running",
  availabilityZone: "us-east-1a",
  instanceType: "g5.xlarge",
  launchTime: undefined,
  privateIp: undefined,
  market: "spot",
  tags: { SynktiCluster: "p", SynktiRole: "worker", ...tags },
  ...over,
});

describe("earlyReplacementRoom: how many early (rebalance) replacements at once", () => {
  it("quota known: launches while two instances still fit (its own and one kept for a spot notice)", () => {
    // 16 vCPU quota, 4 vCPU instances, 2 live: 8 vCPUs free = 2 instances.
    expect(earlyReplacementRoom({ quotaVcpus: 16, vcpusPerInstance: 4, liveSpotVcpus: 8, inFlight: 0, workers: 2 }).room).toBe(true);
    // 3 live (one an early replacement in flight): 1 instance fits, kept for a notice.
    const full = earlyReplacementRoom({ quotaVcpus: 16, vcpusPerInstance: 4, liveSpotVcpus: 12, inFlight: 1, workers: 2 });
    expect(full).toEqual({ room: false, detail: expect.stringContaining("1 early replacements in flight, at most 1") });
  });

  it("quota known: a partial instance's vCPUs do not count, and a fleet over its quota has no room", () => {
    expect(earlyReplacementRoom({ quotaVcpus: 15, vcpusPerInstance: 4, liveSpotVcpus: 8, inFlight: 0, workers: 2 }).room).toBe(false);
    expect(earlyReplacementRoom({ quotaVcpus: 8, vcpusPerInstance: 4, liveSpotVcpus: 12, inFlight: 0, workers: 3 }).room).toBe(false);
  });

  it("a large quota does not limit: many in flight still leave room", () => {
    expect(earlyReplacementRoom({ quotaVcpus: 1000, vcpusPerInstance: 4, liveSpotVcpus: 80, inFlight: 10, workers: 10 }).room).toBe(true);
  });

  it("quota unknown: at most 1 in flight per 3 live workers, at least 1", () => {
    expect(earlyReplacementRoom({ quotaVcpus: undefined, vcpusPerInstance: 4, liveSpotVcpus: 0, inFlight: 0, workers: 1 }).room).toBe(true);
    expect(earlyReplacementRoom({ quotaVcpus: undefined, vcpusPerInstance: 4, liveSpotVcpus: 0, inFlight: 1, workers: 2 }).room).toBe(false);
    expect(earlyReplacementRoom({ quotaVcpus: undefined, vcpusPerInstance: 4, liveSpotVcpus: 0, inFlight: 1, workers: 6 }).room).toBe(true);
    const capped = earlyReplacementRoom({ quotaVcpus: undefined, vcpusPerInstance: 4, liveSpotVcpus: 0, inFlight: 2, workers: 6 });
    expect(capped).toEqual({ room: false, detail: expect.stringContaining("spot quota unreadable: at most 2 early replacements in flight") });
  });

  it("the vCPUs of the type unknown: the cap, not the quota", () => {
    expect(earlyReplacementRoom({ quotaVcpus: 1000, vcpusPerInstance: undefined, liveSpotVcpus: 0, inFlight: 1, workers: 3 }).room).toBe(false);
  });
});

describe("fleetFacts: what the DescribeInstances listing says", () => {
  it("a replacement is in flight while the instance it replaces is live; spot vCPUs count only this worker's quota", () => {
    const live = [
      inst("i-a"),
      inst("i-b"),
      inst("i-c", { market: "on-demand" }),
      inst("i-r1", {}, { SynktiReplaces: "i-a" }), // in flight
      inst("i-r2", {}, { SynktiReplaces: "i-gone" }), // its doomed instance is gone: a worker now
      inst("i-x", { instanceType: "c5.xlarge" }), // another quota
    ];
    expect(fleetFacts(live, "g5.xlarge", 4)).toEqual({ inFlight: 1, workers: 5, liveSpotVcpus: 16 });
  });
});
