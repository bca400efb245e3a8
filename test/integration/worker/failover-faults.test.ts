/**
 * Issue 11 item 7 where the wiring decides (the machine's own decisions are unit-tested with the
 * fake clock in test/unit/failover/faults.test.ts): one in-process doomed worker against moto behind
 * the fault proxy, its notices through the IMDS emulator. Each test counts the real RunInstances
 * the agent sent (the fault proxy sees them all) and the instances moto holds: exactly one launch
 * per replacement, whatever the fault.
 */
import type { Instance } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { replacementClientToken } from "../../../src/failover/spawn-request.js";
import { failoverWorld, IMAGE, isLive, tagsOf, USER_DATA } from "./failover-world.js";
import { startAgent, until } from "./harness.js";

const SPOT_NOTICE = "/latest/meta-data/spot/instance-action";

const world = failoverWorld("fo-faults", { iamProof: true });
const { name, replacementsOf, targetIds, options, doomedWorker, playServing } = world;

/** Every real (not DryRun) RunInstances the agents send from now on, as sent. */
function launches(): { sent: Array<Record<string, string>>; stop(): void } {
  const sent: Array<Record<string, string>> = [];
  const rule = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => {
    if (r.params["DryRun"] !== "true") sent.push(r.params);
    return false; // a witness only
  } });
  return { sent, stop: () => world.proxy.removeRule(rule) };
}

const zoneOf = (i: Instance | undefined) => i?.Placement?.AvailabilityZone;

describe("failover faults, wired (in-process worker, moto, fault proxy)", () => {
  it("a replacement that never serves is terminated by the doomed worker, and the next pool gets one that does", async () => {
    const p = name();
    const sent = launches();
    const { id, agent, targetGroupArn } = await doomedWorker(p, { failover: { healthBudgetMs: 4_000 } });
    try {
      agent.imds.injectSpotInterruption();
      await until("a first replacement", async () => (await replacementsOf(id)).length > 0, 15_000);
      const [first] = await replacementsOf(id);
      // Never serves: after its 4 s budget the doomed worker terminates it and launches in another pool.
      await until("a second replacement", async () => (await replacementsOf(id)).length === 2, 20_000);
      const all = await replacementsOf(id);
      const gone = all.find((i) => i.InstanceId === first!.InstanceId)!;
      const second = all.find((i) => i.InstanceId !== first!.InstanceId)!;
      expect(isLive(gone)).toBe(false);
      expect(zoneOf(second)).not.toBe(zoneOf(first));
      expect(zoneOf(second)).not.toBe("us-east-1a");
      expect(tagsOf(second)).toMatchObject({ SynktiReplaces: id, SynktiLaunch: `r-${id}` });
      await playServing(second.InstanceId!, targetGroupArn);
      await until("the failover retired", async () => (await agent.status()).failover.phase === "retired", 15_000);
      expect((await agent.status()).failover).toMatchObject({ replacement: second.InstanceId });
      expect(sent.sent).toHaveLength(2);
      expect((await replacementsOf(id)).filter(isLive)).toHaveLength(1);
    } finally {
      sent.stop();
      await agent.stop();
    }
  });

  it("the same notice twice (IMDS answers it on every poll, then again to a restarted agent): exactly one launch", async () => {
    const p = name();
    const sent = launches();
    const { id, agent, stateDir, targetGroupArn } = await doomedWorker(p);
    const notice = agent.imds.injectSpotInterruption();
    await until("a replacement", async () => (await replacementsOf(id)).length > 0, 15_000);
    // Many polls answered with the same notice meanwhile: counted, not slept for.
    const polled = agent.imds.count(SPOT_NOTICE);
    await until("more polls answered with the same notice", async () => agent.imds.count(SPOT_NOTICE) >= polled + 3, 15_000);
    await agent.stop();
    // A fresh agent on the same disk; its IMDS still answers the very same notice (same content).
    const noticeAt = Date.parse(notice.time) - 120_000;
    const again = await startAgent(p, id, options(p, stateDir), { imds: { userData: USER_DATA, imageId: IMAGE, clock: { now: () => noticeAt } } });
    try {
      again.imds.injectSpotInterruption();
      await until("the restarted agent resumed", async () => (await again.status()).interruption.notice?.time === notice.time, 30_000);
      const repolled = again.imds.count(SPOT_NOTICE);
      await until("the restarted agent polled the same notice again", async () => again.imds.count(SPOT_NOTICE) >= repolled + 3, 15_000);
      const [replacement] = await replacementsOf(id);
      await playServing(replacement!.InstanceId!, targetGroupArn);
      await until("the failover retired", async () => (await again.status()).failover.phase === "retired", 15_000);
      expect(sent.sent).toHaveLength(1);
      expect(await replacementsOf(id)).toHaveLength(1);
      expect((await again.status()).failover).toMatchObject({ trigger: "spot-interruption", replacement: replacement!.InstanceId });
    } finally {
      sent.stop();
      await again.stop();
    }
  });

  it("a rebalance then a notice: the running failover drains at once and keeps its one replacement", async () => {
    const p = name();
    const sent = launches();
    const { id, agent, targetGroupArn } = await doomedWorker(p);
    try {
      agent.imds.injectRebalance();
      await until("an early replacement", async () => (await replacementsOf(id)).length > 0, 15_000);
      expect(await agent.healthz()).toBe(200); // still serving
      const notice = agent.imds.injectSpotInterruption();
      await until("drained on the notice", async () => !(await targetIds(targetGroupArn)).includes(id), 15_000);
      expect(await agent.healthz()).toBe(503);
      const f = (await agent.status()).failover;
      expect(f).toMatchObject({ trigger: "rebalance-then-notice", deadlineAt: new Date(Date.parse(notice.time)).toISOString() });
      const [replacement] = await replacementsOf(id);
      await playServing(replacement!.InstanceId!, targetGroupArn);
      await until("the failover retired", async () => (await agent.status()).failover.phase === "retired", 15_000);
      expect(sent.sent).toHaveLength(1);
      expect(await replacementsOf(id)).toHaveLength(1);
    } finally {
      sent.stop();
      await agent.stop();
    }
  });

  it("a throttled spawn (RunInstances throttled 3 times) is retried in the same pool with the same ClientToken: one replacement", async () => {
    const p = name();
    const sent = launches();
    const { id, agent } = await doomedWorker(p);
    const rule = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => r.params["DryRun"] !== "true", times: 3, error: "throttle" });
    try {
      agent.imds.injectSpotInterruption();
      await until("a replacement", async () => (await replacementsOf(id)).length > 0, 20_000);
      expect(world.proxy.ruleHits(rule)).toBe(3);
      const [replacement] = await replacementsOf(id);
      const token = replacementClientToken(p, id, { instanceType: "g5.xlarge", zone: zoneOf(replacement)!, market: "spot" });
      // The witness rule was added first, so it saw the three throttled attempts and the one that landed.
      expect(sent.sent.map((r) => r["ClientToken"])).toEqual([token, token, token, token]);
      const f = (await agent.status()).failover;
      if (f.phase === "idle") throw new Error("no failover");
      expect(f.phases.spawn.state).toBe("done");
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await replacementsOf(id)).toHaveLength(1);
    } finally {
      world.proxy.removeRule(rule);
      sent.stop();
      await agent.stop();
    }
  });

  it("a notice while the worker still boots: seen during the preflight, drained at once (it never joins), one replacement", async () => {
    const p = name();
    const sent = launches();
    // The preflight's DryRun of the replacement's request takes 3 s: the notice comes meanwhile.
    let preflightEnds = Infinity;
    const slow = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => {
      if (r.params["DryRun"] !== "true") return false;
      preflightEnds = Math.min(preflightEnds, Date.now() + 3_000);
      return true;
    }, times: 1, delayMs: 3_000 });
    const { id, agent, targetGroupArn } = await doomedWorker(p, { serving: false });
    try {
      await until("the preflight is under way", async () => preflightEnds !== Infinity, 15_000);
      const notice = agent.imds.injectSpotInterruption();
      await until("a replacement", async () => (await replacementsOf(id)).length > 0, 30_000);
      const status = await agent.status();
      // Watched from the start, not from the end of the preflight.
      expect(Date.parse(status.interruption.notice!.observedAt)).toBeLessThan(preflightEnds);
      expect(status.interruption.notice!.time).toBe(notice.time);
      if (status.failover.phase === "idle") throw new Error("no failover");
      expect(status.failover.trigger).toBe("spot-interruption");
      // It was never serving: its drain is trivial and it never joins the target group.
      await until("drained", async () => {
        const f = (await agent.status()).failover;
        return f.phase !== "idle" && f.phases.drain.state === "done";
      }, 15_000);
      await new Promise((r) => setTimeout(r, 2_000)); // its model server had time to become healthy
      expect(await targetIds(targetGroupArn)).not.toContain(id);
      expect(await agent.healthz()).toBe(503);
      expect(sent.sent).toHaveLength(1);
      expect(await replacementsOf(id)).toHaveLength(1);
    } finally {
      world.proxy.removeRule(slow);
      sent.stop();
      await agent.stop();
    }
  });
});
