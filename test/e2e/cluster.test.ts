/**
 * The whole story on the local cloud (issue 6, "done when"): infra up, uploads and launch with the
 * built binary against moto; the booter boots each launched instance into local processes running
 * the real user-data, which downloads and verifies the real binary and weights and runs it as a
 * worker with the vLLM stand-in. No test double between the deployer's launch and the worker.
 *
 * One moto and one cluster of 3 for the file (3 workers + 3 stand-ins are heavy on 2 cores); the
 * tests run in order on that cluster, the spot notice late (a failover may launch a replacement),
 * then a rebalance recommendation (an early replacement: never fewer than 3 serving), `synkti down`
 * last. Later tests work on `servingIds`, the serving set after those failovers.
 * The instances reach AWS through the draining overlay with the stand-in's target health (moto says
 * healthy at registration; ALB only after its checks): what a rebalance's old worker waits for.
 * The tampered binary gets its own project and a booter started only after the tampering, so its
 * instance downloads the swapped bytes under a hash embedded at launch.
 *
 * Issue 10 (one endpoint): a load balancer stand-in plays the project's ALB for the whole file, on
 * the target group's own timeline (health checks every 5 s, thresholds 2/2: no timeScale), and
 * traffic goes through it with the client of "no failed request" (completion-client.ts): 60
 * completions spread over the 3 workers, a worker killed under steady traffic, `synkti down` under
 * steady traffic with a slow stream in flight. Issue 12 (repair): the killed worker, then two killed at
 * once, are each replaced exactly once in their slots by the survivors; the live count is sampled from
 * the first kill to `down` and never exceeds 3; scale 3 -> 2 -> 3 under steady traffic, no failed
 * request. One cluster for all of it: a second file would boot
 * 3 more workers (minutes on 2 cores) to save none of these tests' own time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FailoverSummary } from "../../src/deployer/logs/failovers.js";
import { projectNames } from "../../src/infra/names.js";
import { HEALTH_CHECK } from "../../src/infra/load-balancer-settings.js";
import { MODEL_SERVER_PORT } from "../../src/infra/ports.js";
import { Booter } from "../support/booter/booter.js";
import { complete, steadyTraffic, type CompletionResult } from "../support/completion-client.js";
import { startFleetDrainingOverlay, type DrainingOverlay } from "../support/load-balancer/draining-overlay.js";
import { booterResolver, watchLoadBalancers, type LoadBalancerFleet } from "../support/load-balancer/fleet.js";
import type { LoadBalancerStandin } from "../support/load-balancer-standin.js";
import type { LocalInstance } from "../support/booter/instance.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../support/moto.js";
import { BINARY, runCli } from "../support/run-cli.js";
import { until } from "../support/until.js";

const PROJECT = "e2e-cluster";
const TAMPERED = "e2e-tampered";
const MODEL = "tiny-model";
// Long enough that a restarted model server stays down across a peer round (5 s) and a `synkti status`.
// 20 ms a token: a short completion (max_tokens 4) takes ~0.1 s, a slow stream (150 tokens) ~3 s.
const STANDIN_ENV = { SYNKTI_STANDIN_STARTUP_DELAY_MS: "8000", SYNKTI_STANDIN_TOKEN_LATENCY_MS: "20" };
const LOAD_BALANCER = projectNames(PROJECT).loadBalancer;
const SHORT = { model: MODEL, prompt: "Hello", max_tokens: 4 };

let moto: Moto;
let booter: Booter;
let env: Record<string, string>;
let s3: S3Client;
let ec2: EC2Client;
let launchedIds: string[] = [];
/** The workers serving now: the launched ones, until the spot notice's failover replaces one. */
let servingIds: string[] = [];
let fleet: LoadBalancerFleet;
/** moto as the deployer and the workers see it: target health and draining targets as the stand-in has them (moto: healthy at once, dropped at once). */
let overlay: DrainingOverlay;
/** The project's API key, as `synkti endpoint --show-key` gives it. */
let apiKey = "";
/** What the stand-in logged (target state changes), with when. */
const lbLog: Array<{ at: number; line: string }> = [];
const dir = mkdtempSync(path.join(tmpdir(), "synkti-e2e-cluster-"));

const cli = (args: string[], timeoutMs = 120_000) => runCli(args, { env, timeoutMs });
async function ok(args: string[]): Promise<string> {
  const run = await cli(args);
  expect(run.code, `synkti ${args.join(" ")}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

/** Permanent resources, binary and weights, each by the command an operator runs. */
async function readyProject(project: string): Promise<void> {
  await ok(["infra", "up", "--project-name", project]);
  await ok(["upload", "binary", "--project-name", project, "--file", BINARY]);
  await ok(["upload", "model", "--project-name", project, "--model", MODEL, "--from", path.join(dir, "weights")]);
}

async function launch(project: string, workers: number, extra: string[] = []): Promise<string[]> {
  const launchResult = JSON.parse(await ok(["--project-name", project, "--model", MODEL, "--workers", String(workers), "--output", "json", ...extra]));
  return (launchResult.launched as Array<{ instanceId: string }>).map((l: { instanceId: string }) => l.instanceId);
}


async function tags(instanceId: string): Promise<Record<string, string>> {
  const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Object.fromEntries((answer.Reservations?.[0]?.Instances?.[0]?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

/** GET /status at the endpoint the worker published (SynktiEndpoint); undefined while it does not answer. */
async function status(instanceId: string): Promise<any> {
  const endpoint = (await tags(instanceId)).SynktiEndpoint;
  if (!endpoint) return undefined;
  try {
    const response = await fetch(`http://${endpoint}/status`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

const healthy = (doc: { modelServer?: { state?: string } } | undefined) => doc?.modelServer?.state === "healthy";
const peerHealth = (doc: { peers?: Array<{ instanceId: string; health: string }> } | undefined, id: string) => doc?.peers?.find((p) => p.instanceId === id)?.health;
async function fleetHealth(): Promise<Record<string, string>> {
  const run = await cli(["status", "--project-name", PROJECT, "--output", "json"], 30_000);
  if (run.code !== 0) return {};
  return Object.fromEntries((JSON.parse(run.stdout).workers as Array<{ instanceId: string; health: string }>).map((w) => [w.instanceId, w.health]));
}
/** A health someone reported that is not "healthy" (nor "unknown": not asked yet), else false. */
const notHealthy = (health: string | undefined) => health !== undefined && !["healthy", "unknown"].includes(health) && health;
const worker = (id: string): LocalInstance => booter.instance(id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  mkdirSync(path.join(dir, "weights", "weights"), { recursive: true });
  writeFileSync(path.join(dir, "weights", "config.json"), '{"architectures":["StandIn"],"layers":2}\n');
  writeFileSync(path.join(dir, "weights", "weights", "part-0.safetensors"), Buffer.alloc(64 * 1024, 7));
  moto = await startMoto();
  env = awsEnvFor(moto.url);
  s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  ec2 = new EC2Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  // Workers, like the deployer, see target health as the stand-in has it (`initial` until its checks
  // pass; moto says healthy at once): a rebalance's old worker waits for what the load balancer does.
  // The fleet needs the booter (addresses), the booter the overlay's URL: hence the late binding.
  overlay = await startFleetDrainingOverlay(moto.url, { list: () => fleet?.list() ?? [], get: (name) => fleet?.get(name), sync: async () => fleet?.sync() }, { standinHealth: true });
  booter = await Booter.start({ motoUrl: moto.url, project: PROJECT, env: STANDIN_ENV, awsEndpoint: overlay.url });
  // The project's ALB only (the tampered project makes its own); started by its first poll after infra up.
  fleet = await watchLoadBalancers({ motoUrl: moto.url, resolve: booterResolver(booter), filter: (lb) => lb.name === LOAD_BALANCER, log: (line) => lbLog.push({ at: Date.now(), line }) });
  await readyProject(PROJECT);
  // --wait: the launch returns only once every worker says serving on its own SynktiState tag.
  launchedIds = await launch(PROJECT, 3, ["--wait", "--wait-timeout", "4m"]);
  servingIds = [...launchedIds];
}, 300_000);

afterAll(async () => {
  await liveSampler?.stop();
  await overlay?.close();
  await fleet?.stop();
  await booter?.stop();
  s3?.destroy();
  ec2?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A failed test shows what the instances printed (user-data, worker, stand-in).
afterEach(({ task }) => {
  if (task.result?.state !== "fail" || !booter) return;
  for (const i of booter.instances()) console.error(`--- ${i.instanceId} (${i.address}) ${i.logFile}\n${i.log().slice(-4000)}`);
  console.error(`--- load balancer stand-in\n${lbLog.map((l) => `${new Date(l.at).toISOString()} ${l.line}`).join("\n")}\n${JSON.stringify(fleet?.list(), null, 1)}`);
});

/** The project's load balancer stand-in once `ids` are its healthy targets. */
async function standinServing(ids: string[], timeoutMs = 60_000): Promise<LoadBalancerStandin> {
  return until(`the load balancer stand-in to route to ${ids.join(", ")}`, () => {
    const lb = fleet.get(LOAD_BALANCER);
    const healthy = lb?.targets().filter((t) => t.state === "healthy").map((t) => t.instanceId).sort();
    return JSON.stringify(healthy) === JSON.stringify([...ids].sort()) && lb;
  }, timeoutMs, 250);
}

/** `vllm:request_success_total` of the worker's model server (vLLM's /metrics needs no key). */
async function served(id: string): Promise<number> {
  const text = await (await fetch(`http://${worker(id).address}:${MODEL_SERVER_PORT}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split("\n").find((l) => l.startsWith("vllm:request_success_total{"));
  if (!line) throw new Error(`no vllm:request_success_total in ${id}'s /metrics:\n${text}`);
  return Number(line.split(" ").pop());
}

/** Live (pending or running) workers of the project, sampled every 500 ms from the first repair on. */
let liveSampler: ReturnType<typeof sampleLive> | undefined;
function sampleLive() {
  const samples: Array<{ at: number; live: string[] }> = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const answer = await ec2.send(new DescribeInstancesCommand({ Filters: [
        { Name: "tag:SynktiCluster", Values: [PROJECT] }, { Name: "tag:SynktiRole", Values: ["worker"] },
        { Name: "instance-state-name", Values: ["pending", "running"] },
      ] })).catch(() => undefined);
      if (answer) samples.push({ at: Date.now(), live: (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).sort() });
      await sleep(500);
    }
  })();
  const max = () => Math.max(0, ...samples.map((s) => s.live.length));
  return {
    max,
    describe: () => `max ${max()} live over ${samples.length} samples; above 3: ${JSON.stringify(samples.filter((s) => s.live.length > 3).slice(0, 5))}`,
    stop: async () => { stopped = true; await loop; },
  };
}

/** Every instance of the project ever launched that moto still lists, whatever its state. */
async function projectInstanceIds(): Promise<Set<string>> {
  const answer = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiCluster", Values: [PROJECT] }] }));
  return new Set((answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!));
}
const launchedSince = async (before: Set<string>) => [...(await projectInstanceIds())].filter((id) => !before.has(id)).sort();
/** The `time` of the first JSON log line whose msg is `msg`, in an instance's log. */
const loggedTime = (log: string, msg: string) => {
  const line = log.split("\n").find((l) => l.includes(`"msg":${JSON.stringify(msg)}`));
  return line ? (JSON.parse(line.slice(line.indexOf("{"))) as { time: number }).time : undefined;
};
/** When the local cloud sent SIGTERM to the instance's processes (its OS shutdown), from its log. */
const sigtermAt = (id: string) => Date.parse(/\[local-cloud ([^\]]+)\] SIGTERM to every process/.exec(worker(id).log())?.[1] ?? "");

async function objectText(key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: projectNames(PROJECT).bucket, Key: key }))).Body!.transformToString();
}

/**
 * Each dead worker gets exactly one replacement (tagged SynktiReplaces=<dead id>, in its slot) that
 * serves; the time from the kill to each launch and to serving is printed.
 */
async function repairedOnce(dead: string[], killedAt: number, before: Set<string>): Promise<string[]> {
  const slots = Object.fromEntries(await Promise.all(dead.map(async (id) => [id, (await tags(id)).SynktiSlot] as const)));
  const found = await until(`one replacement for each of ${dead.join(", ")}`, async () => {
    const each = await Promise.all(dead.map(replacementsOf));
    return each.every((r) => r.length >= 1) && each;
  }, 120_000, 500);
  const launchedAt = Date.now();
  const ids = found.map((r) => r[0]!.InstanceId!);
  for (const [n, id] of ids.entries()) {
    expect((await tags(id)).SynktiSlot, `${id} replaces ${dead[n]}`).toBe(slots[dead[n]!]);
    await until(`${id} to serve`, async () => {
      const exit = worker(id).exit;
      if (exit) throw new Error(`${id}: exited (${JSON.stringify(exit)})`);
      return (await tags(id)).SynktiState === "serving";
    }, 240_000, 1000);
  }
  const servedAt = Date.now();
  // Exactly one each, also after the others' grace has passed.
  await sleep(20_000);
  for (const id of dead) expect((await replacementsOf(id)).map((i) => i.InstanceId), `replacements of ${id}`).toHaveLength(1);
  // Nothing else was launched either (a second attempt, another cause's claim), whatever its state now.
  expect(await launchedSince(before), "instances launched since the kill").toEqual([...ids].sort());
  console.log(`[measured] silent death of ${dead.join(", ")}: replacement launched within ${launchedAt - killedAt} ms (polled every 500 ms), serving after ${servedAt - killedAt} ms`);
  return ids;
}

/** The instances tagged SynktiReplaces=<id>, whatever their state. */
const replacementsOf = async (id: string) =>
  ((await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiReplaces", Values: [id] }] }))).Reservations ?? []).flatMap((r) => r.Instances ?? []);
/** The failover timeline the doomed worker wrote to the bucket (checkpoints/failovers/<id>.json). */
const failoverRecord = async (id: string) =>
  JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: projectNames(PROJECT).bucket, Key: `checkpoints/failovers/${id}.json` }))).Body!.transformToString());

/** When the stand-in first logged `id`'s target in `state` (ms since epoch), at or after `since`. */
const loggedAt = (id: string, state: string, since = 0) => lbLog.find((l) => l.at >= since && l.line.endsWith(`target ${id}:${MODEL_SERVER_PORT} ${state}`))?.at;
const failures = (results: CompletionResult[]) => results.filter((r) => !r.ok).map((r) => `${new Date(r.startedAt).toISOString()}..${new Date(r.endedAt).toISOString()} ${r.attempts.join(",")} ${r.error}`);

describe("a cluster on the local cloud", () => {
  it("launch 3: the booter boots 3 workers of the built binary through the user-data; each is healthy and sees the other two", async () => {
    expect(launchedIds).toHaveLength(3);
    // The launch waited: by the time it returned, every worker had tagged itself serving.
    for (const id of launchedIds) expect((await tags(id)).SynktiState, id).toBe("serving");
    const listed = JSON.parse(await ok(["status", "--project-name", PROJECT, "--output", "json"]));
    expect(listed.workers.map((w: { workerState: string; model: string }) => [w.workerState, w.model])).toEqual(Array(3).fill(["serving", MODEL]));
    const instances = await booter.waitForInstances(3, 30_000);
    expect(instances.map((i) => i.instanceId).sort()).toEqual([...launchedIds].sort());

    for (const id of launchedIds) {
      const others = launchedIds.filter((other) => other !== id);
      const doc = await until(`${id} healthy and seeing ${others.join(", ")}`, async () => {
        const exit = worker(id).exit; // the worker quit (or never ran): nothing will become healthy
        if (exit) throw new Error(`${id}: its user-data/worker exited (${JSON.stringify(exit)}); see its log below`);
        const d = await status(id);
        return healthy(d) && others.every((o) => peerHealth(d, o) !== undefined) && d;
      }, 180_000, 1000);
      expect(doc).toMatchObject({ role: "worker", project: PROJECT, instanceId: id });
      // The worker is the binary user-data installed and verified, listening on its own address.
      const instance = worker(id);
      expect(doc.endpoint.split(":")[0]).toBe(instance.address);
      const commands = instance.processes().map((p) => p.command);
      expect(commands.some((c) => c.startsWith(path.join(instance.dir, "usr-local-bin", "synkti")))).toBe(true);
      expect(commands.some((c) => c.includes("vllm-standin-main.ts"))).toBe(true);
    }
    await until("the peers to see each other healthy", async () => {
      const docs = await Promise.all(launchedIds.map(status));
      return docs.every((d, n) => launchedIds.filter((_, m) => m !== n).every((o) => peerHealth(d, o) === "healthy"));
    }, 30_000, 1000);
    const fleet = await fleetHealth();
    expect(Object.keys(fleet).sort()).toEqual([...launchedIds].sort());
    expect(Object.values(fleet)).toEqual(["healthy", "healthy", "healthy"]);
  }, 300_000);

  it("one endpoint: synkti endpoint gives the stand-in's URL and the key; 60 completions through it all succeed, every worker served some (its vLLM metrics); without the key 401", async () => {
    const lb = await standinServing(launchedIds);
    const shown = await runCli(["endpoint", "--project-name", PROJECT, "--show-key", "--output", "json"], { env: { ...env, SYNKTI_ENDPOINT_URL: lb.url }, timeoutMs: 60_000 });
    expect(shown.code, shown.stderr).toBe(0);
    const endpoint = JSON.parse(shown.stdout);
    expect(endpoint).toMatchObject({ url: lb.url, urlSource: "SYNKTI_ENDPOINT_URL", apiKeyParameter: `/synkti/${PROJECT}/api-key`, apiKey: expect.any(String) });
    apiKey = endpoint.apiKey;
    expect(apiKey.length).toBeGreaterThanOrEqual(32);

    const before = await Promise.all(launchedIds.map(served));
    const routedBefore = lb.requests();
    // 6 at a time, 60 in all: least outstanding requests spreads them over the three.
    const results: CompletionResult[] = [];
    const queue = Array.from({ length: 60 }, (_, n) => n);
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (queue.shift() !== undefined) results.push(await complete(lb.url, SHORT, { apiKey }));
    }));
    expect(results).toHaveLength(60);
    expect(failures(results)).toEqual([]);
    for (const r of results) expect(JSON.parse(r.body).choices[0].text).toBe(" tok0 tok1 tok2 tok3");

    const after = await Promise.all(launchedIds.map(served));
    const perWorker = Object.fromEntries(launchedIds.map((id, n) => [id, after[n]! - before[n]!]));
    for (const id of launchedIds) expect(perWorker[id], `${id} served none: ${JSON.stringify(perWorker)}`).toBeGreaterThan(0);
    expect(Object.values(perWorker).reduce((a, b) => a + b, 0)).toBe(60);
    // The model servers' own counts are what the load balancer sent each (no request lost or doubled).
    const routed = lb.requests();
    expect(Object.fromEntries(launchedIds.map((id) => [id, (routed[id] ?? 0) - (routedBefore[id] ?? 0)]))).toEqual(perWorker);

    for (const key of [undefined, "not-the-key"]) {
      const refused = await complete(lb.url, SHORT, key ? { apiKey: key } : {});
      expect(refused, key ?? "no key").toMatchObject({ status: 401, attempts: ["401"] });
      expect(JSON.parse(refused.body)).toEqual({ error: "Unauthorized" });
    }
  }, 120_000);

  it("a killed model server is restarted by its worker; meanwhile its peers and synkti status report it unhealthy", async () => {
    const [id, peer] = launchedIds as [string, string];
    const before = await status(id);
    expect(healthy(before)).toBe(true);
    const pid: number = before.modelServer.pid;
    expect(worker(id).processes().find((p) => p.pid === pid)?.command).toContain("vllm-standin-main.ts");
    process.kill(-pid, "SIGKILL"); // the model server's own process group: vLLM dying, engine and all

    // Observed concurrently: each must see it down before it is back (the stand-in takes 8 s to serve).
    const seen = await Promise.all([
      until("the worker to report its model server down", async () => ((await status(id))?.modelServer?.state ?? "healthy") !== "healthy", 20_000, 250),
      until("a peer to report it unhealthy", async () => notHealthy(peerHealth(await status(peer), id)), 20_000, 250),
      until("synkti status to report it unhealthy", async () => notHealthy((await fleetHealth())[id]), 20_000, 500),
    ]);
    // Each observer named a real not-healthy state, not just "something other than healthy".
    const DOWN_STATES = ["starting", "restarting", "unhealthy", "failed", "unreachable"];
    expect(seen[1]).not.toBe("healthy");
    expect(DOWN_STATES).toContain(seen[1]);
    expect(DOWN_STATES).toContain(seen[2]);

    const after = await until("the model server to be back", async () => {
      const d = await status(id);
      return healthy(d) && d.modelServer.pid !== pid && d;
    }, 90_000, 1000);
    expect(after.modelServer.restarts).toBeGreaterThanOrEqual(1);
    await until("peers and synkti status to see it healthy again", async () => peerHealth(await status(peer), id) === "healthy" && (await fleetHealth())[id] === "healthy", 30_000, 1000);
  }, 180_000);

  it("a spot notice: shown on /status within about a second; the worker drains before the notice time while exactly one replacement is launched within seconds; once it serves, the doomed worker stops its model server; timeline in S3", async () => {
    const id = launchedIds[2]!;
    const lb = await standinServing(launchedIds, 90_000);
    const traffic = steadyTraffic(lb.url, SHORT, { apiKey, concurrency: 2, pauseMs: 50 });
    const started = Date.now();
    // Reclaimed by the test once replaced (below), not at the notice's time: the file's time matters.
    const notice = booter.injectSpotInterruption(id, { reclaimAfterMs: null });
    const doc = await until("the notice on /status", async () => (await status(id))?.interruption?.notice && Date.now(), 10_000, 50);
    const elapsed = doc - started;
    expect(elapsed, `the notice took ${elapsed} ms to show`).toBeLessThan(2500);
    expect((await status(id)).interruption.notice).toMatchObject({ action: notice.action, time: notice.time });

    const replacements = () => replacementsOf(id);
    const launchedAt = await until("a replacement launched", async () => (await replacements()).length > 0 && Date.now(), 30_000, 100);
    expect(launchedAt - started, `the replacement came ${launchedAt - started} ms after the notice`).toBeLessThan(15_000);
    const [replacement] = await replacements();
    const replacementId = replacement!.InstanceId!;
    expect(Object.fromEntries((replacement!.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ SynktiCluster: PROJECT, SynktiRole: "worker", SynktiReplaces: id, SynktiLaunch: `r-${id}`, SynktiModel: MODEL });
    // Drained: out of the stand-in's rotation before the notice time.
    const drainedAt = await until(`${id} out of rotation`, () => loggedAt(id, "deregistered", started) ?? false, 60_000, 250);
    expect(drainedAt).toBeLessThan(Date.parse(notice.time));
    // The booter boots the replacement from the very user-data of the launch; it serves and joins.
    await until(`${replacementId} serving`, async () => (await tags(replacementId)).SynktiState === "serving", 150_000, 1000);
    servingIds = [launchedIds[0]!, launchedIds[1]!, replacementId];
    await standinServing(servingIds, 60_000);
    const done = await until("the failover retired", async () => {
      const d = await status(id);
      return d?.failover?.phase === "retired" && d?.modelServer?.state === "stopped" && d;
    }, 30_000, 500);
    expect(done.failover).toMatchObject({ trigger: "spot-interruption", replacement: replacementId, phases: { drain: { state: "done" }, spawn: { state: "done" }, health: { state: "done" } } });
    const results = await traffic.stop();
    expect(failures(results)).toEqual([]);
    expect(await replacements()).toHaveLength(1);
    const record = await failoverRecord(id);
    expect(record).toMatchObject({ doomed: id, replacement: replacementId });
    // The same timeline in `synkti status`, read from the bucket: doomed -> replacement, phase by phase.
    const listed = await until("the failover in synkti status", async () => {
      const run = await cli(["status", "--project-name", PROJECT, "--output", "json"], 30_000);
      const f = run.code === 0 && (JSON.parse(run.stdout).failovers as FailoverSummary[]).find((x) => x.doomed === id);
      return f && f.status === "retired" && f;
    }, 30_000, 1000);
    const phase = (state: string) => ({ state, startedAt: expect.any(String), endedAt: expect.any(String) });
    expect(listed).toMatchObject({ doomed: id, replacement: replacementId, trigger: "spot-interruption", status: "retired", totalSeconds: expect.any(Number), problem: null, phases: { drain: phase("done"), select: phase("done"), spawn: phase("done"), health: phase("done") } });
    expect(Date.parse(listed.phases!.drain.endedAt!)).toBeLessThan(Date.parse(notice.time));
    const text = await ok(["status", "--project-name", PROJECT]);
    const shown = text.slice(text.indexOf("Recent failovers"));
    expect(shown).toMatch(new RegExp(`${id} -> ${replacementId}  spot-interruption  retired  total \\d+\\.\\ds`));
    for (const name of ["DRAIN", "SELECT", "SPAWN", "HEALTH"]) expect(shown).toMatch(new RegExp(`\\n {4}${name} +done +\\+\\d+\\.\\ds \\.\\. \\+\\d+\\.\\ds`));
    console.log(`[measured] spot notice on ${id}: replacement ${replacementId} launched ${launchedAt - started} ms after, drained ${drainedAt - started} ms after; ${results.length} requests, none failed`);

    // A rebalance recommendation after the notice still shows, and changes nothing.
    const rebalance = booter.injectRebalance(id);
    await until("the rebalance recommendation on /status", async () => (await status(id))?.interruption?.rebalance?.noticeTime === rebalance.noticeTime, 5000, 50);
    // AWS reclaims it (here: now rather than at the notice's time): it ends like any instance.
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await until(`${id} to end`, () => worker(id).exit, 60_000, 250);
    expect(await replacements()).toHaveLength(1);
  }, 300_000);

  it("a rebalance recommendation: the replacement serves before the old worker leaves; the serving count never drops below 3; no request fails; exactly one replacement", async () => {
    const id = servingIds[1]!;
    const lb = await standinServing(servingIds, 90_000);
    const replacements = () => replacementsOf(id);
    expect(await replacements()).toEqual([]);
    const traffic = steadyTraffic(lb.url, SHORT, { apiKey, concurrency: 2, pauseMs: 50 });
    // Serving: the instance's own SynktiState says serving AND the stand-in routes to it (healthy).
    const servingNow = async () => {
      const answer = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiCluster", Values: [PROJECT] }, { Name: "instance-state-name", Values: ["running"] }] }));
      const tagged = (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.Tags?.some((t) => t.Key === "SynktiState" && t.Value === "serving")).map((i) => i.InstanceId!);
      const routed = new Set(lb.targets().filter((t) => t.state === "healthy").map((t) => t.instanceId));
      return tagged.filter((i) => routed.has(i)).sort();
    };
    const samples: Array<{ at: number; serving: string[] }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ at: Date.now(), serving: await servingNow() });
        await sleep(250);
      }
    })();
    const started = Date.now();
    booter.injectRebalance(id);

    const launchedAt = await until("a replacement launched", async () => (await replacements()).length > 0 && Date.now(), 30_000, 250);
    const [replacement] = await replacements();
    const replacementId = replacement!.InstanceId!;
    expect(Object.fromEntries((replacement!.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ SynktiCluster: PROJECT, SynktiRole: "worker", SynktiReplaces: id, SynktiLaunch: `r-${id}`, SynktiModel: MODEL });
    // It boots and serves while the old worker still does; only then does the old one drain and retire.
    // Retired: its timeline in the bucket says so (the instance itself may already be going).
    const done = await until("the rebalance failover retired", async () => {
      const record = await failoverRecord(id).catch(() => undefined);
      return record?.status === "retired" && record;
    }, 240_000, 1000);
    servingIds = servingIds.map((s) => (s === id ? replacementId : s));
    // The old worker out of the stand-in's rotation, and out of a sample (a rebalance with no notice then ends itself).
    await until(`${id} out of rotation`, () => loggedAt(id, "deregistered", started) ?? false, 60_000, 250);
    await until(`a sample without ${id}`, () => samples.some((s) => !s.serving.includes(id)), 10_000, 250);
    sampling = false;
    await sampler;
    const results = await traffic.stop();

    expect(failures(results)).toEqual([]);
    expect(await replacements()).toHaveLength(1);
    expect(done).toMatchObject({ doomed: id, trigger: "rebalance-recommendation", replacement: replacementId, phases: { drain: { state: "done" }, spawn: { state: "done" }, health: { state: "done" } } });
    // HEALTH (the replacement serving, in rotation) ended before DRAIN began: it served first.
    expect(Date.parse(done.phases.health.endedAt)).toBeLessThanOrEqual(Date.parse(done.phases.drain.startedAt));
    // Sampled every ~250 ms from the rebalance until the old worker retired: never fewer than 3 serving.
    expect(samples.length).toBeGreaterThan(20);
    const low = samples.filter((s) => s.serving.length < 3).map((s) => `${new Date(s.at).toISOString()} ${s.serving.join(",")}`);
    expect(low, "moments with fewer than 3 serving").toEqual([]);
    // The replacement served (tag and stand-in) before the old worker left the serving set.
    const replacementServing = samples.findIndex((s) => s.serving.includes(replacementId));
    const oldGone = samples.findIndex((s) => !s.serving.includes(id));
    expect(replacementServing, "the replacement never counted as serving").toBeGreaterThanOrEqual(0);
    expect(oldGone, "the old worker never left the serving set").toBeGreaterThan(replacementServing);
    const healthyAt = loggedAt(replacementId, "healthy", started)!;
    expect(healthyAt).toBeLessThan(loggedAt(id, "draining", started) ?? loggedAt(id, "deregistered", started)!);
    expect(samples.at(-1)!.serving).toEqual([...servingIds].sort());
    const overlapMs = samples[oldGone]!.at - samples[replacementServing]!.at;
    console.log(`[measured] rebalance on ${id}: replacement ${replacementId} launched ${launchedAt - started} ms after, in rotation ${healthyAt - started} ms after, old out of the serving set ${samples[oldGone]!.at - started} ms after (overlap ${overlapMs} ms); ${samples.length} samples, min serving ${Math.min(...samples.map((s) => s.serving.length))}; ${results.length} requests, none failed`);

    // Retired: it ends itself (a rebalance names no reclaim time); if not, AWS would reclaim it.
    const ended = await until(`${id} terminated`, async () => ["shutting-down", "terminated"].includes((await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name ?? ""), 30_000, 500).catch(() => false);
    if (!ended) await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await until(`${id} to end`, () => worker(id).exit, 60_000, 250);
    console.log(`[measured] rebalance: the retired ${id} ${ended ? "terminated itself" : "was terminated by the test (as AWS would)"}`);
    expect(await replacements()).toHaveLength(1);
  }, 360_000);

  it("a binary whose bytes do not match the SHA-256 embedded at launch is never executed", async () => {
    await readyProject(TAMPERED);
    const [id] = (await launch(TAMPERED, 1)) as [string];
    const bucket = `${TAMPERED}-models`;
    const marker = path.join(dir, "tampered-binary-ran");
    // Swap the bytes after the launch embedded the hash, keeping the recorded metadata: a corrupted
    // or replaced object. If anything ran it, the marker file would appear.
    // Workers download the copy named by that hash (bin/synkti-<sha256>): that is the one swapped.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "bin/synkti" }));
    const pinned = `bin/synkti-${head.Metadata!.sha256}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: pinned, Body: `#!/bin/sh\ntouch '${marker}'\n`, Metadata: head.Metadata }));

    await using tamperBooter = await Booter.start({ motoUrl: moto.url, project: TAMPERED, env: STANDIN_ENV });
    const [instance] = await tamperBooter.waitForInstances(1, 30_000);
    expect(instance!.instanceId).toBe(id);
    const exit = await until("user-data to give up", () => instance!.exit, 90_000, 250);
    expect(exit.code).not.toBe(0);
    expect(instance!.log()).toMatch(/binary SHA-256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}; refusing to run it/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(instance!.dir, "usr-local-bin", "synkti"))).toBe(false);
    expect(instance!.processes()).toEqual([]); // no worker, no model server
    expect((await tags(id)).SynktiEndpoint).toBeUndefined();
    // A worker that cannot boot terminates itself (its instance role may), so no GPU idles.
    expect(instance!.log()).toMatch(new RegExp(`terminating ${id}: it cannot serve`));
    await until("the instance terminated itself", async () => {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      return ["shutting-down", "terminated"].includes(out.Reservations?.[0]?.Instances?.[0]?.State?.Name ?? "");
    }, 30_000, 250);
    // It took its reason with it before issue 9; now the bucket keeps it, for logs and status.
    const logs = await cli(["logs", "--project-name", TAMPERED, id]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/binary SHA-256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/);
    const st = JSON.parse(await ok(["status", "--project-name", TAMPERED, "--output", "json"]));
    expect(st.failures).toContainEqual(expect.objectContaining({ instanceId: id, reason: expect.stringContaining("binary SHA-256 mismatch") }));
    const text = await ok(["status", "--project-name", TAMPERED]);
    expect(text.slice(text.indexOf("Recent failures"))).toMatch(new RegExp(`${id}.*binary SHA-256 mismatch`));
  }, 240_000);

  it("a worker killed without notice: within the health check's thresholds the stand-in stops sending to it; from then on no request fails; exactly one replacement, in its slot, serves", async () => {
    const [victim] = servingIds as [string];
    const slot = (await tags(victim)).SynktiSlot;
    expect(slot, `${victim} has no SynktiSlot`).toMatch(/^[0-2]$/);
    // All three in rotation again (the restarted model server's target needs 2 good checks).
    const lb = await standinServing(servingIds, 90_000);
    liveSampler = sampleLive();
    const traffic = steadyTraffic(lb.url, SHORT, { apiKey, concurrency: 3, pauseMs: 20 });
    await sleep(2000);
    const known = await projectInstanceIds();
    const killedAt = Date.now();
    // SIGKILL, no notice, terminated in moto: a host failure. The stand-in takes it out on whichever
    // comes first: failed health checks (its address is gone) or the terminated instance's target
    // leaving the group (AWS deregisters terminated instances).
    await booter.kill(victim);
    const outAt = await until(`the stand-in to take ${victim} out of rotation`, () => lb.targets().find((t) => t.instanceId === victim)?.state !== "healthy" && Date.now(), 60_000, 100);
    const routedToVictim = lb.requests()[victim];
    await sleep(6000); // steady traffic after
    const results = await traffic.stop();

    // ALB's bound: unhealthyThreshold failed checks, one interval apart, each within the timeout (+2 s of polling slack).
    const boundMs = (HEALTH_CHECK.unhealthyThreshold * HEALTH_CHECK.intervalSeconds + HEALTH_CHECK.timeoutSeconds) * 1000 + 2000;
    expect(outAt - killedAt, `out of rotation ${outAt - killedAt} ms after the kill`).toBeLessThanOrEqual(boundMs);
    const afterOut = results.filter((r) => r.startedAt >= outAt);
    expect(afterOut.length).toBeGreaterThan(10);
    expect(failures(afterOut)).toEqual([]);
    expect(lb.requests()[victim]).toBe(routedToVictim);
    const before = results.filter((r) => r.startedAt < outAt);
    console.log(`[measured] ${victim} out of rotation ${outAt - killedAt} ms after the kill; ${failures(before).length} of ${before.length} requests started before failed, 0 of ${afterOut.length} after`);

    // Repair (issue 12): a survivor saw the silent death through EC2 and launched one replacement
    // into the victim's slot; it boots, serves and joins the load balancer.
    const [replacement] = await repairedOnce([victim], killedAt, known);
    servingIds = servingIds.map((s) => (s === victim ? replacement! : s));
    await standinServing(servingIds, 120_000);
  }, 300_000);

  it("two workers killed at once: exactly two replacements, each in its predecessor's slot; never more than 3 live", async () => {
    const victims = servingIds.slice(0, 2);
    const known = await projectInstanceIds();
    const killedAt = Date.now();
    await Promise.all(victims.map((id) => booter.kill(id)));
    const replacements = await repairedOnce(victims, killedAt, known);
    servingIds = servingIds.map((s) => replacements[victims.indexOf(s)] ?? s);
    await standinServing(servingIds, 120_000);
    expect(liveSampler!.max(), liveSampler!.describe()).toBeLessThanOrEqual(3);
  }, 300_000);

  it("scale 3 -> 2 -> 3 under steady traffic: the surplus worker drains and ends itself, then a new one fills its slot; no request fails", async () => {
    const lb = await standinServing(servingIds, 60_000);
    const traffic = steadyTraffic(lb.url, SHORT, { apiKey, concurrency: 3, pauseMs: 20 });
    await sleep(1000);
    const slots = Object.fromEntries(await Promise.all(servingIds.map(async (id) => [(await tags(id)).SynktiSlot!, id] as const)));
    const surplus = slots["2"];
    expect(surplus, `slots ${JSON.stringify(slots)}`).toBeDefined();

    const known = await projectInstanceIds();
    const loweredAt = Date.now();
    const lowered = JSON.parse(await ok(["--project-name", PROJECT, "--model", MODEL, "--workers", "2", "--yes", "--output", "json"]));
    // The deployer launches and terminates nothing: the surplus retires itself.
    expect(lowered).toMatchObject({ launched: [], plan: { toLaunch: 0, scaleDown: { from: 3, to: 2, retiring: [{ slot: 2, instanceId: surplus }] } } });
    expect(JSON.parse(await objectText("cluster/desired.json"))).toMatchObject({ workers: 2 });
    await until(`${surplus} (slot 2) to end itself`, () => worker(surplus!).exit, 180_000, 500);
    // It retired itself: said so on its tag, left the load balancer stand-in (draining while requests
    // were in flight to it) before its OS shutdown, and terminated its own instance.
    const surplusLog = worker(surplus!).log();
    expect(surplusLog).toMatch(/slot 2 is beyond the desired size: this worker drains and terminates itself/);
    expect((await tags(surplus!)).SynktiState).toBe("retiring");
    const out = loggedAt(surplus!, "draining", loweredAt) ?? loggedAt(surplus!, "deregistered", loweredAt);
    const gone = loggedAt(surplus!, "deregistered", loweredAt);
    expect(out, `${surplus} never left the stand-in's rotation`).toBeDefined();
    expect(gone, `${surplus} never left the stand-in`).toBeDefined();
    // The worker stops its own model server once drained (before it terminates itself): the stand-in
    // had let go of it by then, so nothing in flight to it was cut.
    const modelServerStopAt = loggedTime(surplusLog, "stopping the model server: SIGTERM to its process group");
    expect(modelServerStopAt, `${surplus} never stopped its model server`).toBeDefined();
    expect(gone!, `${surplus}: it stopped its model server before the stand-in finished draining it`).toBeLessThanOrEqual(modelServerStopAt!);
    expect(gone!, `${surplus}: its OS shutdown began before the stand-in finished draining it`).toBeLessThanOrEqual(sigtermAt(surplus!));
    servingIds = servingIds.filter((id) => id !== surplus);
    await standinServing(servingIds, 60_000);
    await sleep(3000);
    // desired 2 and 2 holders: slot 2 is no empty slot, nobody repairs it.
    expect(await launchedSince(known), "instances launched by the scale-down").toEqual([]);
    const scaledDown = await traffic.stop();
    expect(scaledDown.length).toBeGreaterThan(20);
    expect(failures(scaledDown)).toEqual([]);
    // The stand-in logs draining and deregistered in one look when nothing was in flight to it.
    console.log(`[measured] scale 3 -> 2: ${surplus} out of rotation ${out! - loweredAt} ms after the command (the desired poll is 15 s), gone from the stand-in ${gone! - loweredAt} ms after (${gone! > out! ? "drained requests in flight" : "nothing in flight"}), model server stopped ${modelServerStopAt! - loweredAt} ms after, OS shutdown ${sigtermAt(surplus!) - loweredAt} ms after; ${scaledDown.length} requests, none failed`);
    const moreTraffic = steadyTraffic(lb.url, SHORT, { apiKey, concurrency: 3, pauseMs: 20 });
    const beforeGrow = await projectInstanceIds();

    const grown = JSON.parse(await ok(["--project-name", PROJECT, "--model", MODEL, "--workers", "3", "--yes", "--wait", "--wait-timeout", "4m", "--output", "json"]));
    const added = (grown.launched as Array<{ instanceId: string }>).map((l) => l.instanceId);
    expect(added).toHaveLength(1);
    expect((await tags(added[0]!)).SynktiSlot).toBe("2");
    servingIds = [...servingIds, added[0]!];
    await standinServing(servingIds, 90_000);
    await sleep(20_000); // past a repairer's grace: the deployer's claim kept the workers from filling slot 2 too
    expect(await launchedSince(beforeGrow), "instances launched by the scale-up").toEqual(added);
    const results = await moreTraffic.stop();
    expect(results.length).toBeGreaterThan(50);
    expect(failures(results)).toEqual([]);
    expect(liveSampler!.max(), liveSampler!.describe()).toBeLessThanOrEqual(3);
    console.log(`[measured] scale 2 -> 3: ${results.length} requests, none failed; live count ${liveSampler!.describe()}`);
  }, 480_000);

  it("synkti down under steady traffic: targets deregistered and drained before termination, a running stream finishes; then an OS shutdown per worker, nothing SIGKILLed", async () => {
    const survivors = servingIds.filter((id) => !worker(id).ended);
    expect(survivors).toHaveLength(3);
    expect(liveSampler!.max(), liveSampler!.describe()).toBeLessThanOrEqual(3);
    liveSampler!.stop();
    const lb = await standinServing(survivors);
    const traffic = steadyTraffic(lb.url, SHORT, { apiKey, concurrency: 2, pauseMs: 20 });
    // ~7 s of tokens (350 x 20 ms): still in flight when down deregisters, even on a busy machine.
    const slow = complete(lb.url, { model: MODEL, prompt: "slow", max_tokens: 350, stream: true }, { apiKey, timeoutMs: 60_000 });
    await sleep(500);
    const downAt = Date.now();
    // The deployer's AWS endpoint shows the stand-in's draining targets, as AWS would.
    const run = await runCli(["down", "--project-name", PROJECT, "--output", "json"], { env: { ...env, AWS_ENDPOINT_URL: overlay.url }, timeoutMs: 180_000 });
    expect(run.code, run.stderr).toBe(0);
    const down = JSON.parse(run.stdout);
    expect(down.deregistration).toMatchObject({ targetGroup: projectNames(PROJECT).targetGroup, drained: true, warning: null });
    expect(down.deregistration.targets).toEqual(expect.arrayContaining(survivors));
    for (const id of survivors) await until(`${id} to end`, () => worker(id).exit, 60_000, 250);
    await sleep(1000); // the client sees 503s once no target is left
    const results = await traffic.stop();

    // Deregistered: the stand-in drained every target, and did so before that instance got SIGTERM.
    // Out of rotation: draining, or at once deregistered when nothing was in flight to it (the stand-in
    // then drops it within the same poll and never logs it draining).
    const timeline = survivors.map((id) => ({ id, draining: loggedAt(id, "draining", downAt) ?? loggedAt(id, "deregistered", downAt), deregistered: loggedAt(id, "deregistered", downAt), sigterm: sigtermAt(id) }));
    const stream = await slow;
    console.log(`[measured] down started ${new Date(downAt).toISOString()}: ${JSON.stringify(timeline.map((t) => ({ id: t.id, drainingMs: (t.draining ?? NaN) - downAt, goneMs: (t.deregistered ?? NaN) - downAt, sigtermMs: t.sigterm - downAt })))}`);
    for (const t of timeline) {
      expect(t.draining, `${t.id} never out of rotation in the stand-in`).toBeDefined();
      // Drained: the stand-in let its requests finish and let it go before the instance got SIGTERM.
      expect(t.deregistered, `${t.id} never left the stand-in`).toBeDefined();
      expect(t.deregistered!, `${t.id}: SIGTERM came before the stand-in finished draining it`).toBeLessThanOrEqual(t.sigterm);
    }
    // down waited for the stream: it finished whole before its instance (the target that drained
    // last) got SIGTERM. Not before every instance's: down writes desired 0 first, so a worker that
    // reads it is surplus and may retire itself, drained with nothing in flight, before down's own
    // TerminateInstances (issue 12); the per-instance order above still holds for it.
    const streamTarget = timeline.reduce((a, b) => (b.deregistered! > a.deregistered! ? b : a));
    expect(stream.endedAt).toBeLessThanOrEqual(streamTarget.sigterm);
    expect(streamTarget.deregistered!).toBeGreaterThanOrEqual(stream.endedAt - 2000); // it drained until the stream ended
    expect(down.deregistration.waitedMs).toBeGreaterThan(0);
    expect(stream, JSON.stringify(stream).slice(0, 500)).toMatchObject({ ok: true, status: 200, attempts: ["200"] });
    expect(stream.body.match(/ tok\d+/g)).toHaveLength(350);
    const deregisteredAt = Math.min(...timeline.map((t) => t.draining!));
    expect(stream.endedAt).toBeGreaterThan(deregisteredAt); // it really was in flight then
    // "No failed request": every request the client could send before the deregistration succeeded;
    // after it the endpoint has no target: ALB's own 503 (twice: the one retry) is what a client gets.
    const beforeDeregistration = results.filter((r) => r.startedAt < deregisteredAt);
    expect(beforeDeregistration.length).toBeGreaterThan(0);
    expect(failures(beforeDeregistration)).toEqual([]);
    const afterDeregistration = results.filter((r) => r.startedAt >= deregisteredAt);
    for (const r of afterDeregistration) {
      if (!r.ok) expect({ status: r.status, attempts: r.attempts, alb: r.body.includes("503 Service Temporarily Unavailable") }, failures([r])[0]).toEqual({ status: 503, attempts: ["503", "503"], alb: true });
    }
    console.log(`[measured] during down: ${beforeDeregistration.length} requests sent before the deregistration, all succeeded; ${afterDeregistration.filter((r) => !r.ok).length} of ${afterDeregistration.length} after got the stand-in's 503`);

    const retiredThemselves = survivors.filter((id) => /this worker drains and terminates itself/.test(worker(id).log()));
    console.log(`[measured] during down: ${retiredThemselves.length} of ${survivors.length} workers read desired 0 in time and retired themselves (surplus: drained, then TerminateInstances on themselves)`);
    for (const id of survivors) {
      const log = worker(id).log();
      expect(log).toMatch(/"signal":"SIGTERM"[^\n]*"msg":"stopping the worker"/);
      // The OS shutdown signals every process at once: the model server may stop on its own SIGTERM first.
      expect(log).toMatch(/stopping the model server|INFO: {5}Received SIGTERM/);
      expect(log).toMatch(/every process exited \d+ ms after SIGTERM/);
      expect(log).not.toMatch(/SIGKILL to \d+/);
    }
  }, 180_000);
});
