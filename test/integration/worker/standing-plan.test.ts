/**
 * The standing plan on a real agent against moto (through the fault proxy, which witnesses every
 * RunInstances): soon after it starts, the worker has run SELECT and a DryRun of the very request
 * its failover would send (moto answers DryRunOperation: allowed), shows `failover.plan` ready on
 * /status and `SynktiPlan=ready` on itself; a refused DryRun makes it not ready, with the fix.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { replacementClientToken } from "../../../src/failover/spawn-request.js";
import { failoverWorld, USER_DATA } from "./failover-world.js";
import { createWorkerInfra, launchMembers, startAgent, testOptions, until } from "./harness.js";

// The failover's world (moto behind the fault proxy, a weights folder); this file starts its own agents.
const world = failoverWorld("plan-it");
const { name } = world;

const tagOf = async (id: string, key: string) =>
  ((await world.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.Tags ?? []).find((t) => t.Key === key)?.Value;

async function agentFor(p: string) {
  const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-plan-state-"));
  await createWorkerInfra(world.moto.url, p);
  const [id] = await launchMembers(world.ec2, p, 1);
  const options = testOptions(p, world.modelsDir, { failover: { stateDir, healthBudgetMs: 60_000, healthPollMs: 300, throttleBackoffMs: 200, failureMemoryMs: 600_000 } });
  // random() = 0.01: the first check 0.3 s after start instead of anywhere in the first 30 s.
  const agent = await startAgent(p, id!, options, { imds: { userData: USER_DATA }, random: () => 0.01 });
  return { id: id!, agent, stateDir };
}

describe("standing failover plan (in-process worker, moto)", () => {
  it("is ready soon after start: a pool other than its own, and a DryRun of the failover's request allowed", async () => {
    const p = name();
    const runs: Array<Record<string, string>> = [];
    const spy = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => (runs.push(r.params), false) });
    const { id, agent, stateDir } = await agentFor(p);
    try {
      await until("the plan", async () => (await agent.status()).failover.plan?.ready === true, 30_000);
      const plan = (await agent.status()).failover.plan!;
      expect(plan).toMatchObject({ ready: true, code: null, problem: null, fix: null });
      expect(plan.pool).toMatch(/^g5\.xlarge\/us-east-1[b-z]$/); // never its own zone (us-east-1a)
      expect(Date.now() - Date.parse(plan.verifiedAt!)).toBeLessThan(60_000);
      // The plan's DryRun is the failover's request (its launch id and SynktiReplaces), without the token.
      const planned = runs.filter((r) => r["DryRun"] === "true" && Object.values(r).includes(`r-${id}`));
      expect(planned.length).toBeGreaterThanOrEqual(1);
      const subnet = (await world.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [planned[0]!["SubnetId"]!] }))).Subnets?.[0];
      expect({ type: planned[0]!["InstanceType"], zone: subnet?.AvailabilityZone }).toEqual({ type: "g5.xlarge", zone: plan.pool!.split("/")[1] });
      expect(Object.values(planned[0]!)).toContain(id); // SynktiReplaces=<this worker>
      // Not the launch's own token (the SDK fills in a random one): that one stays unused until the launch.
      expect(planned[0]!["ClientToken"]).not.toBe(replacementClientToken(p, id, { instanceType: "g5.xlarge", zone: subnet!.AvailabilityZone!, market: "spot" }));
      // No instance was launched by it.
      expect(runs.filter((r) => r["DryRun"] !== "true")).toHaveLength(0);
      await until("the SynktiPlan tag", async () => (await tagOf(id, "SynktiPlan")) === "ready", 15_000);
    } finally {
      world.proxy.removeRule(spy);
      await agent.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("a refused DryRun (the worker policy drifted): not ready, the problem, the infra up fix, SynktiPlan=denied", async () => {
    const p = name();
    // Only the plan's DryRun is refused (its launch id is r-<id>; the preflight's is "preflight").
    const rule = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => r.params["DryRun"] === "true" && Object.values(r.params).some((v) => v.startsWith("r-i-")), error: "access-denied" });
    const { id, agent, stateDir } = await agentFor(p);
    try {
      await until("the plan", async () => (await agent.status()).failover.plan?.code === "denied", 30_000);
      const plan = (await agent.status()).failover.plan!;
      expect(plan).toMatchObject({ ready: false, verifiedAt: null, fix: `synkti infra up --project-name ${p}` });
      expect(plan.problem).toContain("UnauthorizedOperation");
      await until("the SynktiPlan tag", async () => (await tagOf(id, "SynktiPlan")) === "denied", 15_000);
    } finally {
      world.proxy.removeRule(rule);
      await agent.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
