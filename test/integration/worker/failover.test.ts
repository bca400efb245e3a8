/**
 * Issue 11's main story on one in-process worker, against moto behind the fault proxy: a spot
 * notice (through the IMDS emulator) drains the worker and launches exactly one replacement with
 * the launch's own request; once the replacement says `serving` and is healthy in the target group,
 * the doomed worker stops its model server and waits. A restarted agent resumes without a second
 * launch; `synkti down`'s stop marker prevents any launch; a capacity error moves to the next pool.
 * The replacement is played by the test (its tag and target), as the booter would boot it.
 */
import { CreateTagsCommand, DescribeInstanceAttributeCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { replacementClientToken } from "../../../src/failover/spawn-request.js";
import { projectNames } from "../../../src/infra/names.js";
import { captureLogs } from "../../support/log-capture.js";
import { failoverWorld, IMAGE, tagsOf, USER_DATA } from "./failover-world.js";
import { MODEL, startAgent, until } from "./harness.js";

const world = failoverWorld("fo-it", { iamProof: true });
const { name, replacementsOf, targetIds, options, doomedWorker, playServing } = world;

describe("failover on a spot notice (in-process worker, moto)", () => {
  it("drains before the notice time, launches exactly one replacement with the launch's request, then retires once it serves; the timeline is in S3", async () => {
    const p = name();
    // Every RunInstances the agent sends (its preflight's DryRun and the failover's launch), as sent.
    const runs: Array<Record<string, string>> = [];
    const spy = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => {
      runs.push(r.params);
      return false; // never acts: a witness only
    } });
    const { id, agent, targetGroupArn } = await doomedWorker(p);
    try {
      const notice = agent.imds.injectSpotInterruption();
      const noticeAt = Date.now();
      await until("failover step", async () => (await replacementsOf(id)).length > 0, 15_000);
      const launchedWithinMs = Date.now() - noticeAt;
      // Drained: out of the target group, /healthz 503, well before AWS acts.
      await until("failover step", async () => !(await targetIds(targetGroupArn)).includes(id), 15_000);
      expect(await agent.healthz()).toBe(503);
      expect(Date.now()).toBeLessThan(Date.parse(notice.time));
      const [replacement] = await replacementsOf(id);
      const zone = replacement!.Placement!.AvailabilityZone!;
      expect(zone).not.toBe("us-east-1a"); // never the interrupted pool
      expect(tagsOf(replacement!)).toMatchObject({ SynktiCluster: p, SynktiRole: "worker", SynktiLaunch: `r-${id}`, SynktiReplaces: id, SynktiState: "booting", SynktiModel: MODEL });
      expect(replacement!.InstanceType).toBe("g5.xlarge");
      expect(replacement!.ImageId).toBe(IMAGE);
      expect(replacement!.IamInstanceProfile?.Arn).toContain(projectNames(p).instanceProfile);
      expect(replacement!.SecurityGroups?.map((g) => g.GroupName)).toEqual([projectNames(p).securityGroup]);
      expect(replacement!.InstanceLifecycle).toBe("spot");
      expect(replacement!.ClientToken).toBe(replacementClientToken(p, id, { instanceType: "g5.xlarge", zone, market: "spot" }));
      const userData = await world.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: replacement!.InstanceId!, Attribute: "userData" }));
      expect(Buffer.from(userData.UserData!.Value!, "base64").toString("utf8")).toBe(USER_DATA);
      // The preflight proved this very request: the same parameters but DryRun, the token and the launch id.
      const dryRun = runs.find((r) => r["DryRun"] === "true");
      const real = runs.find((r) => r["DryRun"] !== "true");
      const comparable = (r: Record<string, string>) =>
        Object.fromEntries(Object.entries(r).filter(([k, v]) => k !== "DryRun" && k !== "ClientToken" && !(k.startsWith("TagSpecification") && (v === "preflight" || v === `r-${id}`))));
      expect(dryRun).toBeDefined();
      expect(comparable(dryRun!)).toEqual(comparable(real!));

      let status = await agent.status();
      expect(status.failover).toMatchObject({ phase: "running", trigger: "spot-interruption", replacement: replacement!.InstanceId, deadlineAt: new Date(Date.parse(notice.time)).toISOString() });

      await playServing(replacement!.InstanceId!, targetGroupArn);
      await until("failover step", async () => (await agent.status()).failover.phase === "retired", 15_000);
      // Its model server stopped (not restarted); the agent stays, answering /status, until reclaimed.
      await until("model server stopped", async () => (await agent.status()).modelServer.state === "stopped", 10_000);
      status = await agent.status();
      if (status.failover.phase === "idle") throw new Error("no failover");
      expect(status.failover.phases.drain.state).toBe("done");
      expect(status.failover.phases.spawn.state).toBe("done");
      expect(status.failover.phases.health.state).toBe("done");
      expect(Date.parse(status.failover.phases.drain.endedAt!)).toBeLessThan(Date.parse(notice.time));
      expect(await replacementsOf(id)).toHaveLength(1);
      // The timeline outlives the instance: in the bucket, checked against its owner.
      await until("failover step", async () => {
        const body = await world.s3.send(new GetObjectCommand({ Bucket: projectNames(p).bucket, Key: `checkpoints/failovers/${id}.json` })).then((o) => o.Body!.transformToString(), () => "{}");
        const record = JSON.parse(body) as { status?: string; replacement?: string; phases?: { health?: { state: string } } };
        return record.status === "retired" && record.replacement === replacement!.InstanceId && record.phases?.health?.state === "done";
      }, 10_000);
      console.log(`replacement launched ${launchedWithinMs} ms after the notice was injected`);
    } finally {
      world.proxy.removeRule(spy);
      await agent.stop();
    }
  });

  it("an agent restarted mid-failover resumes from its state file without launching a second replacement", async () => {
    const p = name();
    const { id, agent, stateDir, targetGroupArn } = await doomedWorker(p);
    agent.imds.injectSpotInterruption();
    await until("failover step", async () => (await replacementsOf(id)).length > 0, 15_000);
    await agent.stop();
    // A fresh agent on the same instance and disk; its IMDS does not even show the notice any more.
    const again = await startAgent(p, id, options(p, stateDir), { imds: { userData: USER_DATA, imageId: IMAGE } });
    try {
      await until("failover step", async () => (await again.status()).failover.phase === "running", 30_000);
      const [replacement] = await replacementsOf(id);
      await playServing(replacement!.InstanceId!, targetGroupArn);
      await until("failover step", async () => (await again.status()).failover.phase === "retired", 15_000);
      expect(await replacementsOf(id)).toHaveLength(1);
      expect((await again.status()).failover).toMatchObject({ replacement: replacement!.InstanceId });
    } finally {
      await again.stop();
    }
  });

  it("launches nothing while `synkti down` is stopping the cluster (SynktiStopping)", async () => {
    const p = name();
    const { id, agent } = await doomedWorker(p);
    try {
      await world.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "SynktiStopping", Value: "true" }] }));
      agent.imds.injectSpotInterruption();
      await until("failover step", async () => {
        const f = (await agent.status()).failover;
        return f.phase !== "idle" && f.phases.spawn.state !== "pending" && f.phases.spawn.state !== "running";
      }, 15_000);
      const f = (await agent.status()).failover;
      if (f.phase === "idle") throw new Error("no failover");
      expect(f.phases.spawn.state).toBe("skipped");
      expect(await agent.healthz()).toBe(503); // it still drains
      expect(await replacementsOf(id)).toHaveLength(0);
    } finally {
      await agent.stop();
    }
  });

  it("a capacity error in the first pool moves the launch to the next pool, still exactly one replacement", async () => {
    const p = name();
    const { id, agent } = await doomedWorker(p);
    const rule = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => r.params["ClientToken"] !== undefined && r.params["DryRun"] !== "true", times: 1, error: "capacity" });
    try {
      agent.imds.injectSpotInterruption();
      await until("failover step", async () => (await replacementsOf(id)).length > 0, 15_000);
      expect(world.proxy.ruleHits(rule)).toBe(1);
      const f = (await agent.status()).failover;
      if (f.phase === "idle") throw new Error("no failover");
      const [replacement] = await replacementsOf(id);
      // us-east-1b is the first pool (least loaded, by name) and had no capacity.
      expect(replacement!.Placement!.AvailabilityZone).not.toBe("us-east-1a");
      expect(replacement!.Placement!.AvailabilityZone).not.toBe("us-east-1b");
      await new Promise((r) => setTimeout(r, 1500));
      expect(await replacementsOf(id)).toHaveLength(1);
    } finally {
      world.proxy.removeRule(rule);
      await agent.stop();
    }
  });

  it("a rebalance recommendation: the replacement is launched while the worker still serves; once it serves, the worker drains, stops its model server and ends itself", async () => {
    const p = name();
    const { log, lines } = captureLogs("debug");
    const { id, agent, targetGroupArn } = await doomedWorker(p, { log });
    try {
      agent.imds.injectRebalance();
      await until("a replacement launched", async () => (await replacementsOf(id)).length > 0, 15_000);
      // Still serving: no dip before the replacement serves.
      expect(await agent.healthz()).toBe(200);
      expect(await targetIds(targetGroupArn)).toContain(id);
      const [replacement] = await replacementsOf(id);
      await playServing(replacement!.InstanceId!, targetGroupArn);
      await until("the failover retired", async () => (await agent.status()).failover.phase === "retired", 15_000);
      expect(await agent.healthz()).toBe(503);
      expect(await targetIds(targetGroupArn)).not.toContain(id);
      expect((await agent.status()).failover).toMatchObject({ trigger: "rebalance-recommendation", replacement: replacement!.InstanceId, deadlineAt: null });
      // A rebalance has no notice time to wait for: it terminates itself (a DryRun in tests).
      await until("the self-termination", () => lines.some((l) => l.msg.includes("dry run: this replaced instance was not terminated")), 10_000);
      expect(await replacementsOf(id)).toHaveLength(1);
    } finally {
      await agent.stop();
    }
  });

  it("a model server that ends during the failover (after its drain) does not end the agent: the failover still retires once the replacement serves", async () => {
    const p = name();
    const { id, agent, targetGroupArn } = await doomedWorker(p);
    try {
      agent.imds.injectSpotInterruption();
      await until("a replacement launched", async () => (await replacementsOf(id)).length > 0, 15_000);
      await until("the drain done", async () => {
        const failover = (await agent.status()).failover;
        return failover.phase !== "idle" && failover.phases.drain.state === "done";
      }, 15_000);
      const pid = (await agent.status()).modelServer.pid!;
      process.kill(-pid, "SIGKILL"); // the model server's process group dies (a crash, an OOM kill)
      await until("the model server gone", async () => (await agent.status()).modelServer.state !== "healthy", 10_000);
      let ended = false;
      void agent.outcome.then(() => (ended = true));
      const [replacement] = await replacementsOf(id);
      await playServing(replacement!.InstanceId!, targetGroupArn);
      await until("the failover retired", async () => (await agent.status()).failover.phase === "retired", 15_000);
      expect(ended).toBe(false);
    } finally {
      await agent.stop();
    }
  });
});
