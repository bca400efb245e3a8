import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, until, weightsFolder } from "./harness.js";

// The worker agent in-process against moto, an IMDS emulator per agent and the vLLM stand-in.
let moto: Moto;
let ec2: EC2Client;
let s3: S3Client;
let modelsDir: string;
let projects = 0;
/** A fresh project per test, with its worker instance profile (as `synkti infra up` leaves it). */
const project = async () => {
  const name = `wk-it-${process.pid}-${projects++}`;
  await createWorkerInfra(moto.url, name);
  return name;
};

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  ec2 = ec2For(moto.url);
  s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  modelsDir = weightsFolder();
});
afterAll(async () => {
  ec2?.destroy();
  s3?.destroy();
  await moto?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

async function tagsOf(instanceId: string): Promise<Record<string, string>> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const tags = out.Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
  return Object.fromEntries(tags.map((t) => [t.Key!, t.Value!]));
}

/** An object of the project's bucket as text, undefined when absent. */
async function objectText(project: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: `${project}-models`, Key: key }));
    return await out.Body!.transformToString("utf8");
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw error;
  }
}

async function stateOf(instanceId: string): Promise<string | undefined> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

describe("worker agent (in-process, local cloud)", () => {
  it("publishes its endpoint, sees peers launched in moto, asks them, and reports healthy", async () => {
    const p = await project();
    const [a, b, quiet] = await launchMembers(ec2, p, 3);
    const agentA = await startAgent(p, a!, testOptions(p, modelsDir));
    const agentB = await startAgent(p, b!, testOptions(p, modelsDir));
    try {
      const endpointA = await agentA.endpoint;
      expect(endpointA).toMatch(new RegExp(`^${agentA.host.replace(/\./g, "\\.")}:\\d+$`));
      await until("the endpoint tag in EC2", async () => (await tagsOf(a!)).SynktiEndpoint === endpointA);

      const healthy = await until("A healthy and seeing B healthy", async () => {
        const s = await agentA.status();
        return s.modelServer.state === "healthy" && s.peers.find((x) => x.instanceId === b)?.health === "healthy" && s;
      });
      expect(healthy).toMatchObject({ role: "worker", project: p, instanceId: a, availabilityZone: "us-east-1a", instanceType: "g5.xlarge", failover: { phase: "idle" }, interruption: {} });
      expect(healthy.inFlight).toBe(0);
      expect(healthy.peers.find((x) => x.instanceId === b)).toMatchObject({ endpoint: await agentB.endpoint, source: "ec2" });
      // A member without an endpoint (nothing runs on it) is listed, never asked.
      expect(healthy.peers.find((x) => x.instanceId === quiet)).toMatchObject({ endpoint: null, health: "unknown" });
      expect(await agentA.healthz()).toBe(200);
      // What a laptop outside the VPC sees: the state, from the tag the worker keeps on itself.
      await until("SynktiState=serving on A", async () => (await tagsOf(a!)).SynktiState === "serving");

      const [late] = await launchMembers(ec2, p, 1);
      // Counted in the size once A's own listing shows it (B's gossip may name it first, unconfirmed).
      await until("a member launched later", async () => (await agentA.status()).peers.some((x) => x.instanceId === late && x.source === "ec2"));
      expect((await agentA.status()).discovery.clusterSize).toBe(4);
    } finally {
      expect(await agentA.stop()).toEqual({ kind: "stopped" });
      await agentB.stop();
    }
    // Stopped (SIGTERM): the model server is down and the last word is published before exit.
    expect((await tagsOf(a!)).SynktiState).toBe("retiring");
    // One CreateTags a change, in order: endpoint and booting together, serving, then stopping
    // (draining may share its call with retiring when the model server stops quickly).
    // The standing plan's SynktiPlan comes on its own schedule (it may share a call): not counted here.
    const writes = agentA.tagWrites.map(({ SynktiPlan: _plan, ...t }) => t).filter((t) => Object.keys(t).length > 0);
    const states = writes.map((t) => t.SynktiState);
    expect(writes[0]).toEqual({ SynktiEndpoint: await agentA.endpoint, SynktiState: "booting" });
    expect(states.slice(0, 2)).toEqual(["booting", "serving"]);
    expect(states.at(-1)).toBe("retiring");
    expect(writes.length).toBeLessThanOrEqual(4);
  }, 60_000);

  it("restarts a killed model server (status not healthy meanwhile), and a hung one (unhealthy first)", async () => {
    const p = await project();
    const [id] = await launchMembers(ec2, p, 1);
    const agent = await startAgent(p, id!, testOptions(p, modelsDir));
    try {
      const first = await until("healthy", async () => { const s = await agent.status(); return s.modelServer.state === "healthy" && s; });
      process.kill(first.modelServer.pid!, "SIGKILL");
      const meanwhile = await until("not healthy", async () => { const s = await agent.status(); return s.modelServer.state !== "healthy" && s; }, 5000, 10);
      expect(["restarting", "starting"]).toContain(meanwhile.modelServer.state);
      expect(meanwhile.modelServer.lastExit).toMatchObject({ signal: "SIGKILL", reason: "killed by SIGKILL" });
      expect(await agent.healthz()).toBe(503);
      const second = await until("healthy again", async () => { const s = await agent.status(); return s.modelServer.state === "healthy" && s; });
      expect(second.modelServer.restarts).toBe(1);
      expect(second.modelServer.pid).not.toBe(first.modelServer.pid);

      // SIGSTOP: alive but silent. Unhealthy first, then stopped (SIGKILL after the grace) and restarted.
      process.kill(second.modelServer.pid!, "SIGSTOP");
      const unhealthy = await until("unhealthy", async () => { const s = await agent.status(); return s.modelServer.state === "unhealthy" && s; }, 5000, 10);
      expect(unhealthy.modelServer.pid).toBe(second.modelServer.pid);
      const third = await until("healthy after the hang", async () => { const s = await agent.status(); return s.modelServer.state === "healthy" && s.modelServer.restarts === 2 && s; }, 20_000);
      expect(third.modelServer.lastExit?.reason).toMatch(/alive but unhealthy/);
    } finally {
      await agent.stop();
    }
  }, 60_000);

  it("shows a spot notice and a rebalance recommendation on /status within about a second", async () => {
    const p = await project();
    const [id] = await launchMembers(ec2, p, 1);
    const agent = await startAgent(p, id!, testOptions(p, modelsDir));
    try {
      await agent.endpoint;
      const injectedAt = Date.now();
      const notice = agent.imds.injectSpotInterruption();
      const seen = await until("the notice on /status", async () => (await agent.status()).interruption.notice, 5000, 20);
      expect(Date.now() - injectedAt).toBeLessThan(1600);
      expect(seen).toMatchObject({ action: "terminate", time: notice.time });
      // The termination time, on the instance, for `synkti status` (two minutes ahead).
      await until("SynktiNotice on the instance", async () => (await tagsOf(id!)).SynktiNotice === notice.time, 5000);
      const rebalance = agent.imds.injectRebalance();
      expect(await until("the rebalance on /status", async () => (await agent.status()).interruption.rebalance, 5000, 20)).toMatchObject({ noticeTime: rebalance.noticeTime });
    } finally {
      await agent.stop();
    }
  }, 30_000);

  it("gives up on a model server that keeps crashing and terminates its own instance", async () => {
    const p = await project();
    const [dry, real] = await launchMembers(ec2, p, 2);
    const crashing = `${process.execPath} -e process.exit(3) {model_dir} {host} {port}`;
    const policy = { maxCrashes: 3, windowMs: 60_000, initialBackoffMs: 50, maxBackoffMs: 100, maxNeverReady: 10 };
    const options = (dryRun: boolean) => {
      const o = testOptions(p, modelsDir, { dryRun, modelServerCommand: crashing });
      return { ...o, supervisor: { ...o.supervisor, policy } };
    };
    const dryAgent = await startAgent(p, dry!, options(true));
    const dryOutcome = await dryAgent.outcome;
    expect(dryOutcome).toMatchObject({ kind: "gave-up", reason: expect.stringContaining("3 crashes within 1 minute (last: exited with code 3)"), termination: { terminated: false, dryRun: true, allowed: true } });
    expect(await stateOf(dry!)).toBe("running");
    await dryAgent.stop();

    const realAgent = await startAgent(p, real!, options(false));
    expect(await realAgent.outcome).toMatchObject({ kind: "gave-up", termination: { terminated: true } });
    expect(["shutting-down", "terminated"]).toContain(await stateOf(real!));
    await realAgent.stop();
  }, 60_000);

  it("serving, then giving up: leaves SynktiState=failed, a failure record and the tail of its boot log", async () => {
    const p = await project();
    const [id] = await launchMembers(ec2, p, 1);
    const logDir = mkdtempSync(path.join(tmpdir(), "synkti-worker-it-log-"));
    const bootLog = path.join(logDir, "synkti-boot.log");
    writeFileSync(bootLog, "synkti-boot: binary verified\n");
    const base = testOptions(p, modelsDir, { bootLog });
    // The first crash gives up: a test need not wait for five.
    const agent = await startAgent(p, id!, { ...base, supervisor: { ...base.supervisor, policy: { ...base.supervisor.policy, maxCrashes: 1 } } });
    try {
      const healthy = await until("healthy", async () => { const s = await agent.status(); return s.modelServer.state === "healthy" && s; });
      await until("SynktiState=serving", async () => (await tagsOf(id!)).SynktiState === "serving");
      // A running worker keeps its log in S3 fresh: the state change uploaded it.
      expect(await until("the boot log in S3", () => objectText(p, `checkpoints/logs/${id}.log`))).toContain("binary verified");
      expect(await objectText(p, `checkpoints/logs/${id}.json`)).toBeUndefined(); // no failure yet

      appendFileSync(bootLog, '{"level":50,"msg":"giving up on the model server"}\n');
      process.kill(healthy.modelServer.pid!, "SIGKILL");
      const outcome = await agent.outcome;
      expect(outcome).toMatchObject({ kind: "gave-up", termination: { dryRun: true } });

      expect((await tagsOf(id!)).SynktiState).toBe("failed");
      const record = JSON.parse((await objectText(p, `checkpoints/logs/${id}.json`))!);
      expect(record).toEqual({ instanceId: id, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), exitCode: 1, reason: expect.stringContaining("killed by SIGKILL") });
      expect(Date.now() - Date.parse(record.at)).toBeLessThan(60_000);
      expect(await objectText(p, `checkpoints/logs/${id}.log`)).toContain("giving up on the model server");
    } finally {
      await agent.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("as root, does not start a model server its own user could not read the weights as: the folder in the way and the chmod left behind", async () => {
    const p = await project();
    const [id] = await launchMembers(ec2, p, 1);
    // weightsFolder() is a mkdtemp folder: 0700, the agent's own, closed to the model server's user.
    const users = { getuid: () => 0, readPasswd: () => "synkti-model:x:998:997::/var/lib/synkti-model:/usr/sbin/nologin\n" };
    const agent = await startAgent(p, id!, testOptions(p, modelsDir), { users });
    const outcome = await agent.outcome;
    expect(outcome.kind).toBe("refused");
    if (outcome.kind !== "refused") return;
    expect(outcome.error.code).toBe("model-folder-unreadable");
    expect(outcome.error.remedy).toMatch(/^sudo chmod o\+x .*synkti-worker-it-/);
    expect((await tagsOf(id!)).SynktiState).toBe("failed");
    const record = JSON.parse((await objectText(p, `checkpoints/logs/${id}.json`))!);
    expect(record).toMatchObject({ instanceId: id, exitCode: 1 });
    expect(record.reason).toMatch(/^The model server runs as synkti-model, which cannot pass through .*synkti-worker-it-.* \(fix: sudo chmod o\+x /);
    await agent.stop();
  }, 30_000);

  it("refuses to start when UNSAFE: nothing runs, no endpoint, the reason left behind", async () => {
    const p = await project();
    const [id] = await launchMembers(ec2, p, 1);
    const agent = await startAgent(p, id!, testOptions(p, "/nonexistent-models"), { iamRole: null });
    const outcome = await agent.outcome;
    expect(outcome.kind).toBe("unsafe");
    if (outcome.kind !== "unsafe") return;
    const failed = outcome.report.requirements.filter((r) => r.status === "fail").map((r) => r.id);
    expect(failed).toEqual(["instance-role", "weights"]);
    expect(outcome.report.requirements.find((r) => r.id === "permission-replace")?.status).toBe("blocked");
    const tags = await tagsOf(id!);
    expect(tags).not.toHaveProperty("SynktiEndpoint");
    // The refusal leaves its trace: the state, and a record that says why.
    expect(tags.SynktiState).toBe("failed");
    const record = JSON.parse((await objectText(p, `checkpoints/logs/${id}.json`))!);
    expect(record).toMatchObject({ instanceId: id, exitCode: 1 });
    expect(record.reason).toMatch(/^worker preflight UNSAFE: instance-role: .+; weights: .+/);
    await agent.stop();
  }, 30_000);
});
