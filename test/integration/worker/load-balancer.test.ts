/**
 * The worker's side of the load balancer, in-process against moto (issue 10): the API key reaches
 * the model server through its environment only, the instance joins the project's target group once
 * its model server is healthy and provably refuses requests without the key, and on SIGTERM it
 * leaves the group and lets running requests finish before its model server stops.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogs } from "../../support/log-capture.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { vllmStandinCommandTemplate } from "../../support/vllm-standin.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, until, weightsFolder } from "./harness.js";

let moto: Moto;
let ec2: EC2Client;
let elb: ElasticLoadBalancingV2Client;
let s3: S3Client;
let modelsDir: string;
let projects = 0;
const name = () => `lbw-it-${process.pid}-${projects++}`;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  ec2 = ec2For(moto.url);
  elb = new ElasticLoadBalancingV2Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  modelsDir = weightsFolder();
});
afterAll(async () => {
  ec2?.destroy();
  elb?.destroy();
  s3?.destroy();
  await moto?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

const targetsOf = async (arn: string) => ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).map((t) => ({ id: t.Target?.Id, port: t.Target?.Port }));
const statusOf = async (url: string, headers: Record<string, string> = {}) => (await fetch(url, { headers, signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status;

describe("worker and the load balancer (in-process, moto)", () => {
  it("key via env only, joins once healthy and authenticated, drains on SIGTERM before the model server stops, the key in no log", async () => {
    const p = name();
    const { apiKey, targetGroupArn } = await createWorkerInfra(moto.url, p);
    const [id] = await launchMembers(ec2, p, 1);
    const logDir = mkdtempSync(path.join(tmpdir(), "synkti-lb-it-"));
    const bootLog = path.join(logDir, "boot.log");
    // What the boot log would hold if a model server echoed its environment: the upload must not.
    writeFileSync(bootLog, `synkti-boot: weights verified\nsome model server printed ${apiKey}\n`);
    const { log, lines } = captureLogs("debug");
    const base = testOptions(p, modelsDir, { bootLog, drain: { pollMs: 100, maxMs: 20_000, stopBudgetMs: 60_000 } });
    const agent = await startAgent(p, id!, { ...base, env: { ...base.env, SYNKTI_STANDIN_LATENCY_MS: "2500" } }, { log });
    const documents: string[] = [];
    let stopped = false;
    try {
      const healthy = await until("healthy", async () => { const s = await agent.status(); documents.push(JSON.stringify(s)); return s.modelServer.state === "healthy" && s; });
      // The model server requires the key, and holds it in its environment, not its argv.
      expect(await statusOf(`${agent.modelServerUrl}/v1/models`)).toBe(401);
      expect(await statusOf(`${agent.modelServerUrl}/v1/models`, { authorization: `Bearer ${apiKey}` })).toBe(200);
      expect(readFileSync(`/proc/${healthy.modelServer.pid}/cmdline`, "utf8")).not.toContain(apiKey);
      expect(readFileSync(`/proc/${healthy.modelServer.pid}/environ`, "utf8").split("\0")).toContain(`VLLM_API_KEY=${apiKey}`);

      // Registered in moto's target group, on the group's port (the local cloud maps ports).
      await until("the instance in the target group", async () => (await targetsOf(targetGroupArn)).some((t) => t.id === id));
      expect(await targetsOf(targetGroupArn)).toEqual([{ id, port: 8000 }]);
      const joined = await until("registered on /status", async () => { const s = await agent.status(); documents.push(JSON.stringify(s)); return s.loadBalancer.registered && s; });
      expect(joined.loadBalancer).toEqual({ targetGroup: expect.any(String), registered: true, draining: false });
      expect(await agent.healthz()).toBe(200);

      // A request in flight, then SIGTERM.
      let answeredAt = 0;
      const request = fetch(`${agent.modelServerUrl}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ prompt: "hi", max_tokens: 4 }) })
        .then(async (r) => ({ status: r.status, body: await r.json() as { choices: Array<{ text: string }> } }))
        .finally(() => (answeredAt = Date.now()));
      await until("the request in flight", async () => (await agent.status()).inFlight === 1, 5000, 20);
      const stopping = agent.stop();
      stopped = true;
      let deregisteredAt = 0;
      let modelServerDownAt = 0;
      const healthzDuringDrain: number[] = [];
      while (!modelServerDownAt) {
        const now = Date.now();
        if (!deregisteredAt && !(await targetsOf(targetGroupArn)).some((t) => t.id === id)) deregisteredAt = now;
        if ((await statusOf(`${agent.modelServerUrl}/health`)) !== 200) modelServerDownAt = now;
        else healthzDuringDrain.push((await statusOf(`http://${await agent.endpoint}/healthz`)) ?? 0);
        if (Date.now() - now < 50) await new Promise((r) => setTimeout(r, 50));
      }
      const answer = await request;
      expect(answer.status).toBe(200);
      expect(answer.body.choices[0]!.text).toBe(" tok0 tok1 tok2 tok3");
      expect(await stopping).toEqual({ kind: "stopped" });
      expect(deregisteredAt).toBeGreaterThan(0);
      expect(deregisteredAt).toBeLessThan(modelServerDownAt);
      expect(answeredAt).toBeLessThanOrEqual(modelServerDownAt); // the request finished before the stop
      expect(healthzDuringDrain.length).toBeGreaterThan(0);
      expect(healthzDuringDrain.every((s) => s === 503)).toBe(true);
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["registered this instance with the load balancer's target group", "deregistered this instance from the load balancer's target group", "drained: no request in flight"]));

      // The key nowhere: agent logs, status documents, tags, the boot log left in S3.
      appendFileSync(bootLog, "synkti-boot: the agent stopped\n");
      expect(JSON.stringify(lines.map((l) => l.fields))).not.toContain(apiKey);
      expect(documents.join("\n")).not.toContain(apiKey);
      const tags = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id!] }))).Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
      expect(JSON.stringify(tags)).not.toContain(apiKey);
      const uploaded = await (await s3.send(new GetObjectCommand({ Bucket: `${p}-models`, Key: `checkpoints/logs/${id}.log` }))).Body!.transformToString();
      expect(uploaded).toContain("some model server printed <redacted>");
      expect(uploaded).not.toContain(apiKey);
    } finally {
      if (!stopped) await agent.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  }, 90_000);

  it("a worker still booting when synkti down tagged it SynktiStopping=true never registers; /healthz stays 503", async () => {
    const p = name();
    const { targetGroupArn } = await createWorkerInfra(moto.url, p);
    const [id] = await launchMembers(ec2, p, 1);
    const { log, lines } = captureLogs("debug");
    const agent = await startAgent(p, id!, testOptions(p, modelsDir), { log });
    // What down does first, as instance metadata tags show it (the booter mirrors moto's tags).
    agent.imds.tags = { ...agent.imds.tags, SynktiStopping: "true" };
    try {
      await until("healthy", async () => (await agent.status()).modelServer.state === "healthy");
      await until("the stop marker read", async () => lines.some((l) => /synkti down has begun on this instance/.test(l.msg)));
      expect(await targetsOf(targetGroupArn)).toEqual([]);
      expect((await agent.status()).loadBalancer.registered).toBe(false);
      expect(await agent.healthz()).toBe(503);
    } finally {
      await agent.stop();
    }
  }, 60_000);

  it("no API key parameter: UNSAFE (never serves unauthenticated), with the fix", async () => {
    const p = name();
    await createWorkerInfra(moto.url, p, { apiKey: false });
    const [id] = await launchMembers(ec2, p, 1);
    const agent = await startAgent(p, id!, testOptions(p, modelsDir));
    const outcome = await agent.outcome;
    await agent.stop();
    expect(outcome.kind).toBe("unsafe");
    if (outcome.kind !== "unsafe") return;
    expect(outcome.report.requirements.find((r) => r.id === "api-key")).toMatchObject({ status: "fail", fix: `synkti infra up --project-name ${p}` });
    expect(outcome.report.requirements.find((r) => r.id === "target-group")).toMatchObject({ status: "pass" });
  }, 30_000);

  it("a model server that ignores VLLM_API_KEY is never registered: the worker gives up with the reason", async () => {
    const p = name();
    const { targetGroupArn } = await createWorkerInfra(moto.url, p);
    const [id] = await launchMembers(ec2, p, 1);
    // No shell: `env -u` drops the variable, as a model server that never reads it would.
    const agent = await startAgent(p, id!, testOptions(p, modelsDir, { modelServerCommand: `env -u VLLM_API_KEY ${vllmStandinCommandTemplate()}` }));
    const outcome = await agent.outcome;
    await agent.stop();
    expect(outcome).toMatchObject({ kind: "gave-up", reason: expect.stringMatching(/refused to join the load balancer: the model server answers \/v1\/models without the API key \(HTTP 200\)/), termination: { dryRun: true }, unauthenticated: true });
    expect(await targetsOf(targetGroupArn)).toEqual([]);
  }, 30_000);
});
