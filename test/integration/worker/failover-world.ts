/**
 * The failover's integration tests share one world per file: moto behind the fault proxy (the agents
 * talk to AWS through the proxy; the test reads moto directly), a weights folder, and a doomed
 * worker per test, an in-process agent whose IMDS emulator carries the notices. The replacement is
 * played by the test (its tag and target), as the booter would boot it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateTagsCommand, DescribeInstancesCommand, type EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { DEFAULT_COMPUTE, type ComputePolicy } from "../../../src/infra/compute-policy.js";
import { workerRefusals } from "../../support/iam/recorded.js";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import type { ImdsEmulatorOptions } from "../../support/imds-emulator.js";
import type { Logger } from "../../../src/core/log.js";
import type { WorkerOptions } from "../../../src/worker/index.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, until, weightsFolder } from "./harness.js";

export const USER_DATA = "#!/bin/bash\n# synkti worker boot (test)\necho booting\n";
export const IMAGE = "ami-12c6146b";

export interface FailoverWorld {
  moto: Moto;
  proxy: FaultProxy;
  ec2: EC2Client;
  elb: ElasticLoadBalancingV2Client;
  s3: S3Client;
  modelsDir: string;
  /** A fresh project name. */
  name(): string;
  /**
   * This test's calls are not all a worker's (e.g. it runs the deployer's `down` in process, through
   * the same proxy): the IAM proof of the worker policy skips it. Its workers' calls are the kinds
   * the other tests of the file prove.
   */
  notWorkerOnly(): void;
  replacementsOf(doomed: string): Promise<Instance[]>;
  targetIds(arn: string): Promise<Array<string | undefined>>;
  options(p: string, stateDir: string, failover?: Partial<WorkerOptions["failover"]>): WorkerOptions;
  /** Starts the doomed worker; `serving: false` returns at once, while it still boots. */
  doomedWorker(p: string, extra?: { log?: Logger; serving?: boolean; failover?: Partial<WorkerOptions["failover"]>; imds?: Partial<ImdsEmulatorOptions> }): Promise<Awaited<ReturnType<typeof createWorkerInfra>> & { id: string; agent: Awaited<ReturnType<typeof startAgent>>; stateDir: string }>;
  /** What the booter's replacement would do once it serves: say so on its tags and join the group. */
  playServing(instanceId: string, targetGroupArn: string): Promise<void>;
}

export const tagsOf = (i: Instance) => Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value!]));
export const isLive = (i: Instance) => ["pending", "running"].includes(i.State?.Name ?? "");

export interface WorldOptions {
  /**
   * Issue 14's offline IAM proof after every test: each AWS call the workers made in it (through
   * the proxy) must be allowed by the worker policy of the test's project, as `infra up` renders it
   * with this compute policy (`true`: the default, any type, spot only). One project per test.
   */
  iamProof?: true | ComputePolicy;
}

/** Registers the file's beforeAll/afterAll; the fields are set once beforeAll ran. */
export function failoverWorld(prefix: string, worldOptions: WorldOptions = {}): FailoverWorld {
  let projects = 0;
  let named: string[] = [];
  let mixed = false;
  const world = {
    name: () => {
      const p = `${prefix}-${process.pid}-${projects++}`;
      named.push(p);
      return p;
    },
    notWorkerOnly: () => {
      mixed = true;
    },
    replacementsOf: async (doomed: string) =>
      ((await world.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiReplaces", Values: [doomed] }] }))).Reservations ?? []).flatMap((r) => r.Instances ?? []),
    targetIds: async (arn: string) => ((await world.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).map((t) => t.Target?.Id),
    options: (p: string, stateDir: string, failover: Partial<WorkerOptions["failover"]> = {}) =>
      testOptions(p, world.modelsDir, {
        drain: { pollMs: 100, maxMs: 20_000, stopBudgetMs: 60_000 },
        interruption: { intervalMs: 200, timeoutMs: 500 },
        failover: { stateDir, healthBudgetMs: 60_000, healthPollMs: 300, throttleBackoffMs: 200, failureMemoryMs: 600_000, ...failover },
      }),
    async doomedWorker(p: string, extra: { log?: Logger; serving?: boolean; failover?: Partial<WorkerOptions["failover"]>; imds?: Partial<ImdsEmulatorOptions> } = {}) {
      const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-fo-state-"));
      const infra = await createWorkerInfra(world.moto.url, p);
      const [id] = await launchMembers(world.ec2, p, 1);
      const agent = await startAgent(p, id!, world.options(p, stateDir, extra.failover), { imds: { userData: USER_DATA, imageId: IMAGE, ...extra.imds }, ...(extra.log ? { log: extra.log } : {}) });
      if (extra.serving !== false) await until("the doomed worker serves", async () => (await world.targetIds(infra.targetGroupArn)).includes(id), 30_000);
      return { ...infra, id: id!, agent, stateDir };
    },
    async playServing(instanceId: string, targetGroupArn: string) {
      await world.ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: "SynktiState", Value: "serving" }] }));
      await world.elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] }));
    },
  } as FailoverWorld;

  beforeAll(async () => {
    world.moto = await startMoto();
    world.proxy = await startFaultProxy({ target: world.moto.url });
    Object.assign(process.env, awsEnvFor(world.proxy.url));
    world.ec2 = ec2For(world.moto.url);
    world.elb = new ElasticLoadBalancingV2Client({ ...sdkConfigFor(world.moto.url), maxAttempts: 1 });
    world.s3 = new S3Client({ ...sdkConfigFor(world.moto.url), maxAttempts: 1 });
    world.modelsDir = weightsFolder();
  });
  if (worldOptions.iamProof) {
    const compute = worldOptions.iamProof === true ? DEFAULT_COMPUTE : worldOptions.iamProof;
    beforeEach(() => {
      named = [];
      mixed = false;
      world.proxy.resetCounts();
    });
    afterEach(async () => {
      if (named.length === 0 || mixed) return;
      expect(named, "the IAM proof judges one project per test").toHaveLength(1);
      expect(await workerRefusals({ motoUrl: world.moto.url, project: named[0]!, calls: world.proxy.calls(), compute }), "AWS calls the worker policy would refuse").toEqual([]);
    });
  }
  afterAll(async () => {
    world.ec2?.destroy();
    world.elb?.destroy();
    world.s3?.destroy();
    await world.proxy?.close();
    await world.moto?.stop();
    if (world.modelsDir) rmSync(world.modelsDir, { recursive: true, force: true });
  });
  return world;
}
