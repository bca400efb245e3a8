/**
 * Upload throughput: `synkti upload model` (the built binary) against `aws s3 cp --recursive` on
 * the same files, the same moto endpoint, in the same run. Figures are wall time per run including
 * process start. synkti reads each file once (each part at its offset into a reused buffer),
 * hashing it (whole and per 16 MiB chunk) while it is sent; each multipart part is one chunk and
 * carries that chunk's SHA-256 as its S3 checksum and SigV4 payload hash; files go largest first.
 * The AWS CLI hashes each part once for SigV4. Both use their defaults: synkti 8 requests in
 * flight and 16 MiB parts (10 measured no different), the AWS CLI 10 and 8 MiB. moto is reset
 * between runs so each starts empty, and each cold synkti run gets an empty hash cache
 * (XDG_CACHE_HOME). The re-runs: all files unchanged, with the hash cache (a listing and HEADs
 * only) and without it (each file read once to compare). CPU seconds per run (Linux /proc), the
 * client's and moto's,
 * say where the time goes: on a small shared machine the two compete for the same cores.
 * Runs alone with `npx tsx scripts/bench/upload.ts`.
 */
import { execFile } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { awsEnvFor, startMoto, type Moto } from "../../test/support/moto.js";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");
const MiB = 1024 * 1024;
const PROJECT = "bench-upload";
const BUCKET = `${PROJECT}-models`;

/** ~300 MiB like a small model: one big shard, a few medium ones, small tokenizer/config files. */
const LAYOUT: Array<[string, number]> = [
  ["model-00001-of-00002.safetensors", 192 * MiB],
  ...Array.from({ length: 8 }, (_, i): [string, number] => [`model-00002-part-${i}.bin`, 12 * MiB]),
  ...Array.from({ length: 12 }, (_, i): [string, number] => [`tokenizer/file-${i}.json`, 1 * MiB]),
];

function generate(dir: string): number {
  const chunk = Buffer.alloc(4 * MiB);
  let total = 0;
  for (const [rel, size] of LAYOUT) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    const parts: Buffer[] = [];
    for (let left = size; left > 0; left -= chunk.length) parts.push(Buffer.from(randomFillSync(chunk).subarray(0, Math.min(left, chunk.length))));
    writeFileSync(file, Buffer.concat(parts));
    total += size;
  }
  return total;
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat; the children's waited-for CPU with `children`. */
function procCpu(stat: string, children: boolean): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const at = children ? 13 : 11; // utime stime, or cutime cstime (clock ticks, 100 a second on Linux)
  return (Number(fields[at]) + Number(fields[at + 1])) / 100;
}

/** CPU seconds so far of this process's finished children, and of moto's process group (NaN off Linux). */
function cpuNow(moto: Moto): { children: number; moto: number } {
  try {
    let motoCpu = 0;
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === moto.pid) motoCpu += procCpu(stat, false);
      } catch {
        // the process ended meanwhile
      }
    }
    return { children: procCpu(readFileSync("/proc/self/stat", "utf8"), true), moto: motoCpu };
  } catch {
    return { children: Number.NaN, moto: Number.NaN };
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function fresh(moto: Moto, env: NodeJS.ProcessEnv): Promise<void> {
  await moto.reset();
  await run("aws", ["s3api", "create-bucket", "--bucket", BUCKET, "--endpoint-url", moto.url], { env });
}

export async function benchUpload(rounds = 3): Promise<string[]> {
  if (!existsSync(binary)) return ["upload: dist/synkti missing; run: npm run build"];
  const dir = mkdtempSync(path.join(tmpdir(), "synkti-bench-upload-"));
  const moto = await startMoto();
  try {
    const env = { ...process.env, ...awsEnvFor(moto.url) };
    const weights = path.join(dir, "weights");
    const bytes = generate(weights);
    let caches = 0;
    const freshCache = () => path.join(dir, `xdg-cache-${caches++}`);
    const upload = (cache: string) =>
      run(binary, ["upload", "model", "--project-name", PROJECT, "--model", "bench", "--from", weights, "--output", "json"], { env: { ...env, XDG_CACHE_HOME: cache }, maxBuffer: 16 * MiB });
    const awsCli = () => run("aws", ["s3", "cp", "--recursive", "--only-show-errors", weights, `s3://${BUCKET}/awscli/`, "--endpoint-url", moto.url], { env, maxBuffer: 16 * MiB });
    const samples = { synkti: [] as number[], aws: [] as number[] };
    const cpu = { synkti: { client: 0, moto: 0 }, aws: { client: 0, moto: 0 } };
    let skipRun = Number.NaN;
    let skipRunUncached = Number.NaN;
    // One discarded run of each first: the first upload into a fresh moto was always the slowest.
    for (const warm of [() => upload(freshCache()), awsCli]) {
      await fresh(moto, env);
      await warm();
    }
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, so neither always meets a warmer moto.
      const order: Array<"synkti" | "aws"> = round % 2 === 0 ? ["synkti", "aws"] : ["aws", "synkti"];
      for (const who of order) {
        await fresh(moto, env);
        const cache = freshCache();
        const before = cpuNow(moto);
        samples[who].push(await timed(who === "synkti" ? () => upload(cache) : awsCli));
        const after = cpuNow(moto);
        cpu[who].client += (after.children - before.children) / rounds;
        cpu[who].moto += (after.moto - before.moto) / rounds;
        if (who === "synkti" && round === 0) {
          skipRun = await timed(() => upload(cache)); // everything already there, hashes remembered
          skipRunUncached = await timed(() => upload(freshCache())); // the same, hashes not remembered
        }
      }
    }
    const best = (xs: number[]) => Math.min(...xs);
    const rate = (s: number) => bytes / s / 1e6;
    const line = (label: string, xs: number[]) =>
      `${label.padEnd(44)} best ${best(xs).toFixed(2)} s  ${rate(best(xs)).toFixed(1).padStart(6)} MB/s  (runs: ${xs.map((x) => x.toFixed(2)).join(", ")} s)`;
    return [
      `${LAYOUT.length} files, ${(bytes / MiB).toFixed(0)} MiB, moto on 127.0.0.1, ${rounds} rounds after one warm-up run each`,
      line("synkti upload model (dist/synkti)", samples.synkti),
      line("aws s3 cp --recursive (AWS CLI v1)", samples.aws),
      `synkti / aws throughput ratio: x${(best(samples.aws) / best(samples.synkti)).toFixed(2)}`,
      `CPU per run (mean): synkti ${cpu.synkti.client.toFixed(2)} s + moto ${cpu.synkti.moto.toFixed(2)} s; aws CLI ${cpu.aws.client.toFixed(2)} s + moto ${cpu.aws.moto.toFixed(2)} s`,
      `synkti re-run, all files unchanged: ${skipRun.toFixed(2)} s with the hash cache (a listing and HEADs only), ${skipRunUncached.toFixed(2)} s without (each file read once)`,
    ];
  } finally {
    await moto.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchUpload()) console.log(line);
}
