/**
 * Issue 11 item 4, the spot quota's headroom: a rebalance recommendation's early replacement is held
 * back when too many are already in flight; a spot notice's replacement never is. One in-process
 * worker against moto behind the fault proxy (Service Quotas answers AccessDenied, as the worker
 * policy would on AWS; moto knows no EC2 quota anyway), so the documented cap applies: 1 early
 * replacement in flight per 3 live workers. The other workers and the replacements in flight
 * are plain instances the test launches with the project's tags.
 */
import { RunInstancesCommand } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { captureLogs } from "../../support/log-capture.js";
import { failoverWorld } from "./failover-world.js";
import { launchMembers, until } from "./harness.js";

const world = failoverWorld("foq-it", { iamProof: true });
const { name, replacementsOf, targetIds, doomedWorker } = world;

/** An early replacement in flight: a live worker whose SynktiReplaces names another live one. */
async function replacementFor(p: string, doomed: string): Promise<string> {
  const out = await world.ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      InstanceType: "g5.xlarge",
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: "us-east-1b" },
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiCluster", Value: p }, { Key: "SynktiRole", Value: "worker" }, { Key: "SynktiReplaces", Value: doomed }] }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}

describe("early replacements bounded by the spot quota's headroom (in-process worker, moto)", () => {
  it("two early replacements in flight among 5 workers (cap 1): a third rebalance launches nothing and keeps serving; a spot notice is still replaced", async () => {
    const p = name();
    const { log, lines } = captureLogs("debug");
    const { id, agent, targetGroupArn } = await doomedWorker(p, { log });
    // Service Quotas refuses (as the worker policy would on AWS): the cap, not a block.
    const denied = world.proxy.addRule({ action: /GetServiceQuota/, error: "access-denied" });
    try {
      const [a, b] = await launchMembers(world.ec2, p, 4);
      await replacementFor(p, a!);
      await replacementFor(p, b!);

      agent.imds.injectRebalance();
      await until("the rebalance was held back", async () => {
        const f = (await agent.status()).failover;
        return f.phase !== "idle" && f.phases.spawn.state === "skipped";
      }, 20_000);
      const held = (await agent.status()).failover;
      if (held.phase === "idle") throw new Error("no failover");
      expect(held.phases.spawn.detail).toContain("spot quota unreadable: at most 1 early replacements in flight (1 per 3 of 5 live workers); 2 in flight");
      expect(lines.some((l) => l.msg.startsWith("no room for an early replacement"))).toBe(true);
      const asked = world.proxy.ruleHits(denied);
      expect(asked).toBeGreaterThanOrEqual(1);
      // Still serving, and nothing launched.
      await new Promise((r) => setTimeout(r, 1000));
      expect(await replacementsOf(id)).toHaveLength(0);
      expect(await agent.healthz()).toBe(200);
      expect(await targetIds(targetGroupArn)).toContain(id);

      // The same crowded fleet: a real notice is replaced all the same.
      agent.imds.injectSpotInterruption();
      await until("the notice's replacement launched", async () => (await replacementsOf(id)).length > 0, 20_000);
      expect((await agent.status()).failover).toMatchObject({ trigger: "rebalance-then-notice" });
      // The notice's SELECT never waited on Service Quotas.
      expect(world.proxy.ruleHits(denied)).toBe(asked);
    } finally {
      world.proxy.removeRule(denied);
      await agent.stop();
    }
  });

  it("one early replacement in flight among 6 workers (cap 2): the rebalance launches its replacement while serving", async () => {
    const p = name();
    const { id, agent } = await doomedWorker(p);
    try {
      const [a] = await launchMembers(world.ec2, p, 5);
      await replacementFor(p, a!);
      agent.imds.injectRebalance();
      await until("a replacement launched", async () => (await replacementsOf(id)).length > 0, 20_000);
      expect(await agent.healthz()).toBe(200);
    } finally {
      await agent.stop();
    }
  });
});
