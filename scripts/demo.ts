// `npm run demo`: the main job, end to end, on the local cloud (moto + the booter), then a failover
// under steady traffic (a spot notice on one worker, its timeline as it happens): what an operator
// does on AWS, with nothing faked but the cloud (moto, the booter, a load balancer stand-in), up to
// completions through the load balancer. Prints each command and its result; exits non-zero
// at the first step that does not do what it should.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import setupBuild from "../test/setup/build-binary.js";
import { Booter } from "../test/support/booter/booter.js";
import { MotoEc2 } from "../test/support/booter/moto-ec2.js";
import { closedPort } from "../test/support/free-port.js";
import { booterResolver, watchLoadBalancers } from "../test/support/load-balancer/fleet.js";
import { projectNames } from "../src/infra/names.js";
import { complete, sendAndAttribute, steadyCompletions, type Worker } from "./demo-traffic.js";
import { STATUS_PORT } from "../src/infra/ports.js";
import { awsEnvFor, startMoto } from "../test/support/moto.js";
import { until } from "../test/support/until.js";

const root = path.resolve(import.meta.dirname, "..");
const binary = path.join(root, "dist", "synkti");
const project = "demo";
const model = "tiny-llm";
const loadBalancer = projectNames(project).loadBalancer;
const REQUESTS = 8;

function step(title: string): void {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
}

/**
 * Runs the binary without blocking this process: moto and the booter live in this event loop
 * (moto's log pipe must keep draining, or moto stalls).
 */
function run(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function synkti(env: NodeJS.ProcessEnv, args: string[], expectCode = 0, options: { quiet?: string } = {}): Promise<string> {
  process.stdout.write(`$ synkti ${args.join(" ")}\n`);
  const result = await run(env, args);
  process.stdout.write(options.quiet === undefined ? result.stdout : `  (${options.quiet})\n`);
  if (result.code !== expectCode) {
    process.stderr.write(result.stderr);
    throw new Error(`synkti ${args.join(" ")} exited ${result.code}, expected ${expectCode}`);
  }
  return result.stdout;
}

/** Small stand-in weights: the worker checks them against the manifest; the vLLM stand-in serves. */
function makeWeights(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "synkti-demo-weights-"));
  writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "llama", hidden_size: 64 }));
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify({ version: "1.0" }));
  writeFileSync(path.join(dir, "model.safetensors"), Buffer.alloc(4 * 1024 * 1024, 1));
  return dir;
}

async function waitForHealthy(env: NodeJS.ProcessEnv, workers: number, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const result = await run(env, ["status", "--project-name", project, "--output", "json"]);
    const healthy = result.code === 0 ? (JSON.parse(result.stdout).workers as Array<{ health: string }>).filter((w) => w.health === "healthy") : [];
    if (healthy.length >= workers) return;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  throw new Error(`the workers did not all report healthy within ${timeoutMs / 1000} s`);
}

type Phase = { state: string; startedAt: string | null; endedAt: string | null; detail: string | null };
type FailoverStatus = { phase: string; trigger?: string; replacement?: string | null; deadlineAt?: string | null; phases?: Record<string, Phase> };

async function failoverOf(address: string): Promise<FailoverStatus | undefined> {
  try {
    const response = await fetch(`http://${address}:${STATUS_PORT}/status`, { signal: AbortSignal.timeout(2000) });
    return ((await response.json()) as { failover: FailoverStatus }).failover;
  } catch {
    return undefined; // reclaimed, or busy: asked again
  }
}

/**
 * Issue 11's story, as it happens: steady traffic through the load balancer, a notice on one worker
 * (as the booter's IMDS gives it), and the doomed worker's own timeline (its /status `failover`),
 * each phase printed when it changes, with the traffic's counts at that moment. AWS would reclaim
 * the doomed instance at the notice time (2 minutes); here it is reclaimed once it has retired.
 */
async function failover(env: NodeJS.ProcessEnv, motoUrl: string, booter: Booter, url: string, apiKey: string, workers: Worker[]): Promise<void> {
  const doomed = workers[workers.length - 1]!;
  const traffic = steadyCompletions(url, model, apiKey, 2);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // traffic first, then the notice
  const notice = booter.injectSpotInterruption(doomed.instanceId, { reclaimAfterMs: null });
  const noticeAt = Date.now();
  const since = (iso: string | null) => (iso ? `+${((Date.parse(iso) - noticeAt) / 1000).toFixed(1)}s` : "");
  const counts = () => {
    const c = traffic.counts();
    return `[sent ${c.sent}, answered ${c.answered}, failed ${c.failed}]`;
  };
  process.stdout.write(`  notice on ${doomed.instanceId}: AWS acts at ${notice.time} (in 120 s)\n`);
  const seen = new Map<string, string>();
  const printed = new Set<string>();
  let last: FailoverStatus | undefined;
  await until("the failover to retire", async () => {
    const f = await failoverOf(doomed.address);
    if (!f || f.phase === "idle" || !f.phases) return false;
    last = f;
    if (!printed.has("trigger")) {
      printed.add("trigger");
      process.stdout.write(`  ${doomed.instanceId} failover: ${f.trigger}, deadline ${f.deadlineAt}\n`);
    }
    for (const [name, phase] of Object.entries(f.phases)) {
      if (phase.state === "pending" || seen.get(name) === phase.state) continue;
      seen.set(name, phase.state);
      const at = phase.state === "running" ? since(phase.startedAt) : since(phase.endedAt);
      process.stdout.write(`  ${at.padStart(7)} ${name.padEnd(6)} ${phase.state}${phase.detail ? `: ${phase.detail}` : ""}  ${counts()}\n`);
    }
    return f.phase === "retired";
  }, 180_000, 250);
  const replacement = last?.replacement ?? undefined;
  process.stdout.write(`  +${((Date.now() - noticeAt) / 1000).toFixed(1)}s retired: ${doomed.instanceId} stopped its model server; ${replacement} serves in its place  ${counts()}\n`);
  // A little traffic with the replacement in rotation, then the totals.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const total = await traffic.stop();
  process.stdout.write(`  requests through the load balancer: sent ${total.sent}, answered ${total.answered}, failed ${total.failed}\n`);
  for (const failure of traffic.failures()) process.stdout.write(`  failed: ${failure}\n`);
  // AWS reclaims the doomed instance at the notice time; the local cloud does it now.
  const ec2 = new MotoEc2(motoUrl);
  try {
    await ec2.terminate(doomed.instanceId);
  } finally {
    ec2.close();
  }
  await until(`${doomed.instanceId} to be reclaimed`, () => booter.instances().some((i) => i.instanceId === doomed.instanceId && i.state === "ended"), 60_000, 250);
  await synkti(env, ["status", "--project-name", project]);
  if (total.failed > 0) throw new Error(`${total.failed} requests failed during the failover`);
  if (!replacement) throw new Error("the failover retired without a replacement");
}

async function main(): Promise<void> {
  const started = Date.now();
  setupBuild(); // builds dist/synkti when missing or stale
  step("Local cloud: moto on 127.0.0.1 and the booter (instances become local processes)");
  await using moto = await startMoto();
  await using booter = await Booter.start({
    motoUrl: moto.url,
    project,
    onEvent: (e) => process.stdout.write(`  [local-cloud] ${e.instanceId ?? ""} ${e.message}\n`),
  });
  // moto stores load balancers but routes nothing: a stand-in plays the project's, on a port kept now.
  await using loadBalancers = await watchLoadBalancers({
    motoUrl: moto.url,
    resolve: booterResolver(booter),
    reserve: [loadBalancer],
    onEvent: (e) => e.type === "started" && process.stdout.write(`  [local-cloud] load balancer ${e.name}: ${e.url}\n`),
    log: (line) => / target .* (healthy|draining|deregistered)$/.test(line) && process.stdout.write(`  [local-cloud] ${line}\n`),
  });
  const endpointUrl = loadBalancers.reserved(loadBalancer)!;
  const env = {
    ...process.env,
    ...awsEnvFor(moto.url, { metadataEndpoint: `http://127.0.0.1:${await closedPort()}` }),
    SYNKTI_SYSFS_ROOT: mkdtempSync(path.join(tmpdir(), "synkti-demo-sysfs-")), // a laptop: no DMI
    SYNKTI_ENDPOINT_URL: endpointUrl, // endpoint, status and the launch show the stand-in, not moto's made-up DNS name
  };
  process.stdout.write(`  moto ${moto.url}; instance files under ${booter.root}; the load balancer of ${project} will answer at ${endpointUrl}\n`);

  step("Where am I? (a laptop: deployer)");
  await synkti(env, ["context"]);
  step("Preflight on an empty account: UNSAFE, with the fixes");
  await synkti(env, ["preflight", "--project-name", project, "--model", model], 1);
  step("Permanent infrastructure, binary and weights");
  await synkti(env, ["infra", "up", "--project-name", project]);
  await synkti(env, ["upload", "binary", "--project-name", project, "--file", binary]);
  await synkti(env, ["upload", "model", "--project-name", project, "--model", model, "--from", makeWeights()]);
  step("Preflight again: SAFE");
  await synkti(env, ["preflight", "--project-name", project, "--model", model]);
  step("Launch 2 spot workers; the booter runs their user-data, which verifies and starts the binary");
  await synkti(env, ["--project-name", project, "--model", model, "--workers", "2"]);
  await waitForHealthy(env, 2);
  await synkti(env, ["status", "--project-name", project]);

  step(`Through the load balancer: ${REQUESTS} completions with the API key, and which worker answered each`);
  const standin = loadBalancers.get(loadBalancer)!;
  // moto calls a registered target healthy at once; the stand-in health-checks it first, as ALB does.
  await until("the load balancer to call both workers healthy", () => standin.targets().filter((t) => t.state === "healthy").length >= 2, 60_000, 250);
  await synkti(env, ["endpoint", "--project-name", project]);
  const shown = await synkti(env, ["endpoint", "--project-name", project, "--show-key", "--output", "json"], 0, { quiet: "the key is read into the demo, not printed" });
  const { url, apiKey } = JSON.parse(shown) as { url: string; apiKey: string };
  const workers = booter.instances().filter((i) => !i.ended);
  process.stdout.write(`(the worker of each request: the one whose vLLM request_success_total grew, read from each worker's /metrics)\n`);
  const answers = await sendAndAttribute(url, model, apiKey, workers, REQUESTS, (n, a) =>
    process.stdout.write(`  #${n} -> ${a.worker ? `${a.worker.instanceId} (${a.worker.address})` : "no worker counted it"} ${a.status} in ${a.ms} ms\n`),
  );
  const perWorker = workers.map((w) => `${w.instanceId} ${answers.filter((a) => a.worker === w).length}`);
  process.stdout.write(`  served: ${perWorker.join(", ")}\n`);
  if (answers.some((a) => a.status !== 200)) throw new Error("a completion through the load balancer failed");
  if (workers.some((w) => !answers.some((a) => a.worker === w))) throw new Error("a worker served none of the completions");
  const refused = await complete(url, model, undefined);
  process.stdout.write(`  without the key: ${refused.status} ${refused.body.trim()}\n`);
  if (refused.status !== 401) throw new Error(`a completion without the key answered ${refused.status}, expected 401`);

  step("A spot notice on one worker, under steady traffic through the load balancer: the failover");
  await failover(env, moto.url, booter, url, apiKey, workers);

  step("Launch again: nothing more to do");
  await synkti(env, ["--project-name", project, "--model", model, "--workers", "2"]);
  step("Teardown: nothing left behind");
  await synkti(env, ["down", "--project-name", project]);
  // The local cloud shuts each one down as EC2 would: SIGTERM, the worker stops its model server, exits.
  await until("the workers to shut down", () => booter.instances().every((i) => i.state === "ended"), 60_000, 250);
  await synkti(env, ["leaks", "--project-name", project]);
  process.stdout.write(`\nDemo complete in ${Math.round((Date.now() - started) / 1000)} s.\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
