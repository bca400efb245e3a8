/**
 * The launch's instance types in the failover (issue 11 item 2), one in-process worker against moto
 * behind the fault proxy: the worker learns the ordered list from its own tags (SynktiInstanceTypes,
 * through IMDS) and, when its own type has no capacity in any zone, launches the replacement in the
 * next type; with SynktiOnDemandFallback=true, on-demand once every spot pool failed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand, type EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, until, weightsFolder } from "./harness.js";

let moto: Moto;
let proxy: FaultProxy;
let ec2: EC2Client;
let elb: ElasticLoadBalancingV2Client;
let modelsDir: string;
let projects = 0;
const name = () => `fot-it-${process.pid}-${projects++}`;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.url });
  Object.assign(process.env, awsEnvFor(proxy.url));
  ec2 = ec2For(moto.url);
  elb = new ElasticLoadBalancingV2Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  modelsDir = weightsFolder();
});
afterAll(async () => {
  ec2?.destroy();
  elb?.destroy();
  await proxy?.close();
  await moto?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

const replacementsOf = async (doomed: string): Promise<Instance[]> =>
  ((await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiReplaces", Values: [doomed] }] }))).Reservations ?? []).flatMap((r) => r.Instances ?? []);
const tagsOf = (i: Instance) => Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!]));
const targetIds = async (arn: string) => ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).map((t) => t.Target?.Id);

async function doomedWorker(p: string, launchTags: Record<string, string>) {
  const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-fot-state-"));
  const infra = await createWorkerInfra(moto.url, p);
  const [id] = await launchMembers(ec2, p, 1);
  const options = testOptions(p, modelsDir, {
    drain: { pollMs: 100, maxMs: 20_000, stopBudgetMs: 60_000 },
    interruption: { intervalMs: 200, timeoutMs: 500 },
    failover: { stateDir, healthBudgetMs: 60_000, healthPollMs: 300, throttleBackoffMs: 200, failureMemoryMs: 600_000 },
  });
  const agent = await startAgent(p, id!, options, { imds: { userData: "#!/bin/bash\necho booting\n", tags: { SynktiCluster: p, SynktiRole: "worker", ...launchTags } } });
  await until("the worker joined its target group", async () => (await targetIds(infra.targetGroupArn)).includes(id), 30_000);
  return { id: id!, agent };
}

/** A real (not DryRun) failover launch matching `when`: answered InsufficientInstanceCapacity. */
const noCapacity = (when: (params: Record<string, string>) => boolean) =>
  proxy.addRule({ action: "ec2:RunInstances", when: (r) => r.params["ClientToken"] !== undefined && r.params["DryRun"] !== "true" && when(r.params), error: "capacity" });

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
      expect(proxy.ruleHits(rule)).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await replacementsOf(id)).toHaveLength(1);
    } finally {
      proxy.removeRule(rule);
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
      proxy.removeRule(rule);
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
      proxy.removeRule(rule);
      await agent.stop();
    }
  });
});
