// `npm run demo`: the main job, end to end, on the local cloud (moto + the booter): what an operator
// does on AWS, with nothing faked but the cloud. Prints each command and its result; exits non-zero
// at the first step that does not do what it should.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import setupBuild from "../test/setup/build-binary.js";
import { Booter } from "../test/support/booter/booter.js";
import { closedPort } from "../test/support/free-port.js";
import { awsEnvFor, startMoto } from "../test/support/moto.js";
import { until } from "../test/support/until.js";

const root = path.resolve(import.meta.dirname, "..");
const binary = path.join(root, "dist", "synkti");
const project = "demo";
const model = "tiny-llm";

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

async function synkti(env: NodeJS.ProcessEnv, args: string[], expectCode = 0): Promise<string> {
  process.stdout.write(`$ synkti ${args.join(" ")}\n`);
  const result = await run(env, args);
  process.stdout.write(result.stdout);
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

async function main(): Promise<void> {
  setupBuild(); // builds dist/synkti when missing or stale
  step("Local cloud: moto on 127.0.0.1 and the booter (instances become local processes)");
  await using moto = await startMoto();
  await using booter = await Booter.start({
    motoUrl: moto.url,
    project,
    onEvent: (e) => process.stdout.write(`  [local-cloud] ${e.instanceId ?? ""} ${e.message}\n`),
  });
  const env = {
    ...process.env,
    ...awsEnvFor(moto.url, { metadataEndpoint: `http://127.0.0.1:${await closedPort()}` }),
    SYNKTI_SYSFS_ROOT: mkdtempSync(path.join(tmpdir(), "synkti-demo-sysfs-")), // a laptop: no DMI
  };
  process.stdout.write(`  moto ${moto.url}; instance files under ${booter.root}\n`);

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
  step("Launch again: nothing more to do");
  await synkti(env, ["--project-name", project, "--model", model, "--workers", "2"]);
  step("Teardown: nothing left behind");
  await synkti(env, ["down", "--project-name", project]);
  // The local cloud shuts each one down as EC2 would: SIGTERM, the worker stops its model server, exits.
  await until("the workers to shut down", () => booter.instances().every((i) => i.state === "ended"), 60_000, 250);
  await synkti(env, ["leaks", "--project-name", project]);
  process.stdout.write("\nDemo complete.\n");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
