import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startFaultProxy } from "../../test/support/fault-proxy.js";
import { awsEnvFor, startMoto } from "../../test/support/moto.js";
import { fmt, percentile } from "./measure.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");

function synkti(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; stdout: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, ms: performance.now() - start }));
  });
}

/**
 * Preflight's wall time against its slowest single observation, with a delay added to every AWS
 * call by a proxy in front of moto: observations run at once, so the wall time should be close to
 * the slowest one, far from the sum of all of them (what checking one after another would cost).
 */
export async function benchPreflight(delayMs = 250, runs = 3): Promise<string[]> {
  await using moto = await startMoto();
  const project = "bench-pf";
  const model = "bench-model";
  const direct = { ...process.env, ...awsEnvFor(moto.url), SYNKTI_SYSFS_ROOT: mkdtempSync(path.join(tmpdir(), "sysfs-")) };
  const weights = mkdtempSync(path.join(tmpdir(), "synkti-bench-weights-"));
  for (let i = 0; i < 8; i++) writeFileSync(path.join(weights, `shard-${i}.safetensors`), Buffer.alloc(64 * 1024, i));
  for (const args of [["infra", "up"], ["upload", "binary", "--file", binary], ["upload", "model", "--model", model, "--from", weights]]) {
    const done = await synkti(direct, [...args, "--project-name", project]);
    if (done.code !== 0) throw new Error(`synkti ${args.join(" ")} failed (${done.code})`);
  }
  await using proxy = await startFaultProxy({ target: moto.url });
  proxy.addRule({ action: "*", delayMs });
  const delayed = { ...direct, AWS_ENDPOINT_URL: proxy.url };

  const walls: number[] = [];
  const slowest: number[] = [];
  const sums: number[] = [];
  let calls = 0;
  for (let i = 0; i < runs; i++) {
    proxy.resetCounts();
    const run = await synkti(delayed, ["preflight", "--project-name", project, "--model", model, "--output", "json"]);
    const report = JSON.parse(run.stdout) as { verdict: string; requirements: Array<{ id: string; durationMs: number }> };
    if (process.env.SYNKTI_BENCH_VERBOSE) console.log(report.requirements.map((r) => `${r.id}=${r.durationMs}`).join(" "));
    if (report.verdict !== "SAFE") throw new Error(`expected SAFE, got ${report.verdict}`);
    walls.push(run.ms);
    const durations = report.requirements.map((r) => r.durationMs);
    slowest.push(Math.max(...durations));
    sums.push(durations.reduce((a, b) => a + b, 0));
    calls = Object.values(proxy.counts()).reduce((a, b) => a + b, 0);
  }
  const p50 = (xs: number[]) => percentile(xs, 50);
  return [
    `${delayMs} ms added to each of ${calls} AWS calls; ${runs} runs of dist/synkti preflight (p50):`,
    `  wall time of the whole command (process start to exit)  ${fmt(p50(walls)).padStart(10)}`,
    `  slowest single observation                               ${fmt(p50(slowest)).padStart(10)}`,
    `  sum of all observations (one after another)              ${fmt(p50(sums)).padStart(10)}`,
    `  wall / slowest: x${(p50(walls) / p50(slowest)).toFixed(2)}   wall / sum: x${(p50(walls) / p50(sums)).toFixed(2)}`,
  ];
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchPreflight()) console.log(line);
}
