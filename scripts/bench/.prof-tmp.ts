// Ad-hoc: one synkti upload of the bench layout with a CPU profile; prints wall time.
import { execFile } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { awsEnvFor, startMoto } from "../../test/support/moto.js";
const run = promisify(execFile);
const MiB = 1024 * 1024;
const weights = "/tmp/upprof/weights";
const LAYOUT: Array<[string, number]> = [
  ["model-00001-of-00002.safetensors", 192 * MiB],
  ...Array.from({ length: 8 }, (_, i): [string, number] => [`model-00002-part-${i}.bin`, 12 * MiB]),
  ...Array.from({ length: 12 }, (_, i): [string, number] => [`tokenizer/file-${i}.json`, 1 * MiB]),
];
if (!existsSync(weights)) for (const [rel, size] of LAYOUT) { const f = path.join(weights, rel); mkdirSync(path.dirname(f), { recursive: true }); writeFileSync(f, randomFillSync(Buffer.alloc(size))); }
const moto = await startMoto();
const env = { ...process.env, ...awsEnvFor(moto.url) };
const mode = process.argv[2] ?? "plain";
try {
  for (let i = 0; i < Number(process.argv[3] ?? 3); i++) {
    await moto.reset();
    await run("aws", ["s3api", "create-bucket", "--bucket", "bench-upload-models", "--endpoint-url", moto.url], { env });
    const extra = mode === "prof" ? { NODE_OPTIONS: "--cpu-prof --cpu-prof-dir=/tmp/upprof/prof" } : {};
    const t = process.hrtime.bigint();
    const { stdout } = await run("/work/wt/upload/dist/synkti", ["upload", "model", "--project-name", "bench-upload", "--model", "bench", "--from", weights, "--output", "json", ...(process.argv[4] ? ["--concurrency", process.argv[4]] : [])], { env: { ...env, ...extra, XDG_CACHE_HOME: `/tmp/upprof/cache-${Date.now()}` }, maxBuffer: 16 * MiB });
    console.log(mode, ((Number(process.hrtime.bigint() - t)) / 1e9).toFixed(2), "s", JSON.parse(stdout).uploaded?.length ?? stdout.slice(0, 200));
  }
} finally { await moto.stop(); }
