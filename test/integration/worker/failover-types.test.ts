/**
 * The launch's instance types in the failover (issue 11 item 2), one in-process worker against moto
 * behind the fault proxy: the worker learns the ordered list from its own tags (SynktiInstanceTypes,
 * through IMDS) and, when its own type has no capacity in any zone, launches the replacement in the
 * next type; with SynktiOnDemandFallback=true, on-demand once every spot pool failed.
 */
import { describe, expect, it } from "vitest";
import { failoverWorld, tagsOf } from "./failover-world.js";
import { until } from "./harness.js";

// Issue 14: every call proven allowed by a policy of exactly these types, on-demand allowed (infra up --instance-types g5.xlarge,g6.xlarge --allow-on-demand).
const world = failoverWorld("fot-it", { iamProof: { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: true } });
const { name, replacementsOf } = world;

/** The doomed worker, launched with `launchTags` (read back through IMDS as its own tags). */
const doomedWorker = (p: string, launchTags: Record<string, string>) =>
  world.doomedWorker(p, { imds: { tags: { SynktiCluster: p, SynktiRole: "worker", ...launchTags } } });

/** A real (not DryRun) failover launch matching `when`: answered InsufficientInstanceCapacity. */
const noCapacity = (when: (params: Record<string, string>) => boolean) =>
  world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => r.params["ClientToken"] !== undefined && r.params["DryRun"] !== "true" && when(r.params), error: "capacity" });

describe("failover across the launch's instance types (in-process worker, moto)", () => {
  it("no capacity for its own type in any zone: the replacement is of the launch's next type, spot, and carries the list on", async () => {
    const p = name();
    const { id, agent } = await doomedWorker(p, { SynktiInstanceTypes: "g5.xlarge,g6.xlarge" });
    const rule = noCapacity((params) => params["InstanceType"] === "g5.xlarge");
    try {
      agent.imds.injectSpotInterruption();
      await until("a replacement launched", async () => (await replacementsOf(id)).length > 0, 20_000);
      const [replacement] = await replacementsOf(id);
      expect(replacement!.InstanceType).toBe("g6.xlarge");
      expect(replacement!.InstanceLifecycle).toBe("spot");
      expect(tagsOf(replacement!)).toMatchObject({ SynktiReplaces: id, SynktiInstanceTypes: "g5.xlarge,g6.xlarge" });
      // Its own type was tried first, in the other zones (never the interrupted pool).
      expect(world.proxy.ruleHits(rule)).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await replacementsOf(id)).toHaveLength(1);
    } finally {
      world.proxy.removeRule(rule);
      await agent.stop();
    }
  });

  it("without the list (a worker launched before it existed): only its own type, so no replacement when that type has no capacity", async () => {
    const p = name();
    const { id, agent } = await doomedWorker(p, {});
    const rule = noCapacity((params) => params["InstanceType"] === "g5.xlarge");
    try {
      agent.imds.injectSpotInterruption();
      await until("the spawn gave up", async () => {
        const f = (await agent.status()).failover;
        return f.phase !== "idle" && f.phases.spawn.state === "failed";
      }, 20_000);
      expect(await replacementsOf(id)).toHaveLength(0);
    } finally {
      world.proxy.removeRule(rule);
      await agent.stop();
    }
  });

  it("--on-demand-fallback: when every spot pool has no capacity, the replacement is on-demand", async () => {
    const p = name();
    const { id, agent } = await doomedWorker(p, { SynktiInstanceTypes: "g5.xlarge", SynktiOnDemandFallback: "true" });
    const rule = noCapacity((params) => params["InstanceMarketOptions.MarketType"] === "spot");
    try {
      agent.imds.injectSpotInterruption();
      await until("a replacement launched", async () => (await replacementsOf(id)).length > 0, 20_000);
      const [replacement] = await replacementsOf(id);
      expect(replacement!.InstanceType).toBe("g5.xlarge");
      expect(replacement!.InstanceLifecycle).toBeUndefined(); // on-demand
      expect(tagsOf(replacement!)).toMatchObject({ SynktiReplaces: id, SynktiOnDemandFallback: "true" });
    } finally {
      world.proxy.removeRule(rule);
      await agent.stop();
    }
  });
});
