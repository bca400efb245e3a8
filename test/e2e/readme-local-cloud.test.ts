/**
 * The README's commands run as written (issue 9 item 6): the fenced `sh` blocks of its local-cloud
 * section, as a newcomer would paste them into three shells.
 * 1. The first block starts the local cloud: its first line runs in the background (its state file
 *    in a temp folder, so a developer's own local cloud is left alone); the other lines are
 *    variants of the same foreground command.
 * 2. The `export ...` lines it printed are evaluated, then the deploy block runs in a fresh empty
 *    folder (nothing may depend on the checkout being the current folder), every line checked
 *    (`bash -e`).
 * 3. Once the load balancer's stand-in calls the 3 workers healthy, the third block runs in the
 *    checkout (with the printed exports: SYNKTI_ENDPOINT_URL is the stand-in of demo's load
 *    balancer), with `i-0abc...` filled with one booted worker's: list, read the key with
 *    `synkti endpoint --show-key`, ask the model by its name through the load balancer, 401
 *    without the key, spot events.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../support/until.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-readme-state-"));
const workDir = mkdtempSync(path.join(tmpdir(), "synkti-readme-work-"));
// The test runner's AWS variables must not leak into the shells: the printed exports are the only ones.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("AWS_") && !key.startsWith("SYNKTI_")));
const env = { ...baseEnv, SYNKTI_LOCAL_CLOUD_STATE_DIR: stateDir };

/** The fenced sh blocks of the section "## The local cloud...", up to the next "## " heading. */
function localCloudBlocks(): string[] {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## The local cloud");
  const end = readme.indexOf("\n## ", start + 1);
  expect(start, "README.md has a '## The local cloud' section").toBeGreaterThan(0);
  return [...readme.slice(start, end < 0 ? undefined : end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function bash(script: string, cwd: string, timeoutMs = 180_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-e", "-o", "pipefail", "-c", script], { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

let cloud: ChildProcess;
let cloudOut = "";
let cloudErr = "";
let blocks: string[];
let exports = "";

beforeAll(async () => {
  blocks = localCloudBlocks();
  expect(blocks.length, "the local-cloud section has 3 sh blocks: start, deploy, talk to it and play spot").toBe(3);
  const start = blocks[0]!.split("\n")[0]!;
  cloud = spawn("bash", ["-c", start], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  cloud.stdout!.on("data", (c) => (cloudOut += c));
  cloud.stderr!.on("data", (c) => (cloudErr += c));
  await until("the local cloud's exports", () => cloudOut.includes("Ctrl-C stops everything"), 120_000, 100, () => `stdout:\n${cloudOut}\nstderr:\n${cloudErr}`);
  exports = cloudOut.split("\n").filter((line) => line.startsWith("export ")).join("\n");
}, 150_000);

afterAll(async () => {
  if (cloud?.pid && cloud.exitCode === null) {
    process.kill(-cloud.pid, "SIGINT"); // Ctrl-C: it ends the instances, the emulators and moto
    const ended = await Promise.race([new Promise((resolve) => cloud.once("exit", () => resolve(true))), new Promise((resolve) => setTimeout(() => resolve(false), 30_000))]);
    if (!ended) process.kill(-cloud.pid, "SIGKILL");
  }
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe("README: the local cloud", () => {
  it("prints an environment that points only at loopback and puts the built synkti first on PATH", () => {
    expect(exports).toMatch(/^export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(exports).toMatch(/^export AWS_EC2_METADATA_SERVICE_ENDPOINT=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(exports).toContain(`export PATH='${path.join(root, "dist")}':"$PATH"`);
    expect(exports).toMatch(/^export SYNKTI_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+$/m);
  });

  it("deploys as written, from any folder; the workers answer to the model's name; spot events play", async () => {
    const deploy = await bash(`${exports}\n${blocks[1]}`, workDir);
    expect(deploy.code, `deploy block failed:\n${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    expect(deploy.stdout).toContain(`Uploaded ${path.join(root, "dist", "synkti")} `); // the synkti on PATH uploaded itself
    const endpointUrl = /^export SYNKTI_ENDPOINT_URL=(\S+)$/m.exec(exports)![1]!;
    expect(deploy.stdout).toContain(`\nEndpoint: ${endpointUrl}  (model tiny)\n`); // the launch ends with the endpoint
    expect(cloudOut).toContain(`# load balancer demo-synkti: ${endpointUrl}\n`);

    const statusLine = blocks[1]!.split("\n").find((line) => line.startsWith("synkti status"))!.replace(/\s+#.*$/, "");
    await until(
      "3 healthy workers",
      async () => {
        const status = await bash(`${exports}\n${statusLine} --output json`, workDir, 60_000);
        return status.code === 0 && (JSON.parse(status.stdout).workers as { health: string }[]).filter((w) => w.health === "healthy").length === 3;
      },
      150_000,
      2000,
      () => cloudErr.slice(-4000),
    );

    // moto calls a registered target healthy at once; the stand-in's own health checks take seconds more.
    await until(
      "the stand-in to call 3 targets healthy",
      async () => {
        const lbs = await bash("npm run --silent local-cloud -- load-balancers", root, 60_000);
        const demo = (JSON.parse(lbs.stdout) as { name: string; targets: { state: string }[] }[]).find((lb) => lb.name === "demo-synkti");
        return demo !== undefined && demo.targets.filter((t) => t.state === "healthy").length === 3;
      },
      60_000,
      1000,
      () => cloudErr.slice(-4000),
    );

    const listed = await bash("npm run --silent local-cloud -- instances", root, 60_000);
    const worker = (JSON.parse(listed.stdout) as { instanceId: string; address: string; ended: boolean }[]).find((i) => !i.ended)!;
    const play = blocks[2]!.replaceAll("i-0abc...", worker.instanceId);
    const spot = await bash(`${exports}\n${play}`, root, 120_000);
    expect(spot.code, `third block failed:\n${spot.stdout}\n${spot.stderr}`).toBe(0);
    expect(spot.stdout).toMatch(/"object":\s*"text_completion"[\s\S]*"model":\s*"tiny"/); // the model answers to its name, through the load balancer
    expect(spot.stdout).toMatch(/^401$/m); // without the key
    expect(spot.stdout + spot.stderr).not.toMatch(/"apiKey"/); // the key went into the variable, not the output
    expect(cloudErr).toMatch(/spot interruption notice/);
  }, 420_000);
});
