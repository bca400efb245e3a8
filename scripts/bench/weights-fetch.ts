/**
 * The worker's weights fetch against today's path and against what the endpoint can give, on the
 * same moto, the same files, in the same run:
 * - synkti: fetchWeights (src/worker/weights) in this process through the real S3 client, at its
 *   defaults: the pinned manifest, ranged GETs of up to DEFAULT_MAX_GET_BYTES of consecutive
 *   chunks (the size `synkti upload model` writes: CHUNK_SIZE, 16 MiB), DEFAULT_FETCH_CONCURRENCY
 *   in flight, every chunk hashed as it lands and written in place;
 * - aws CLI: `aws s3 cp --recursive` then `sha256sum --check` (what user-data did before);
 * - moto's limit: parallel ranged GETs whose bodies are read and dropped (no hashing, no disk),
 *   best of a few concurrency/range-size settings, always including synkti's own.
 * moto is one Python process on the same 2 shared cores as this one, so the CPU of both is printed
 * per approach: ratios are the figure, not MB/s. Runs alone with
 * `npx tsx scripts/bench/weights-fetch.ts`; `--explore` also times synkti and the limit at
 * concurrency 8/16/32 x GETs of 16-128 MiB, and synkti with 0/1/2 hashing threads (how the
 * defaults were chosen).
 */
import { execFile } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ChunkHasher, CHUNK_SIZE } from "../../src/artifacts/chunks.js";
import { sha256OfBytes } from "../../src/artifacts/hash.js";
import { buildManifest, renderManifest } from "../../src/artifacts/manifest.js";
import { createAwsClients } from "../../src/aws/clients.js";
import { createRangeReader } from "../../src/aws/s3-ranges.js";
import { createS3Transfer } from "../../src/aws/s3-transfer.js";
import { systemClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/log.js";
import { DEFAULT_FETCH_CONCURRENCY, DEFAULT_MAX_GET_BYTES, fetchWeights } from "../../src/worker/weights/index.js";
import { defaultHashThreads } from "../../src/worker/weights/hash-writers.js";
import { awsEnvFor, sdkConfigFor, startMoto } from "../../test/support/moto.js";

const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const unique = (settings: Setting[]) => settings.filter((s, i) => settings.findIndex((t) => t[0] === s[0] && t[1] === s[1]) === i);
const MiB = 1024 * 1024;
const PROJECT = "bench-fetch";
const BUCKET = `${PROJECT}-models`;
const MODEL = "bench";

/** ~300 MiB like a small model: one big shard, a few medium ones, small tokenizer/config files. */
const LAYOUT: Array<[string, number]> = [
  ["model-00001-of-00002.safetensors", 192 * MiB],
  ...Array.from({ length: 8 }, (_, i): [string, number] => [`model-00002-part-${i}.bin`, 12 * MiB]),
  ...Array.from({ length: 12 }, (_, i): [string, number] => [`tokenizer/file-${i}.json`, 1 * MiB]),
];

/**
 * CPU seconds (user + system) per approach, for where the time goes: this process's, and moto's
 * (its process group, from /proc: it shares the 2 cores, so the sum is what a run costs them).
 */
const cpu: Record<string, number[]> = {};
const motoCpu: Record<string, number[]> = {};
let motoGroup = 0;
function groupCpuSeconds(group: number): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the state on
      if (Number(fields[2]) === group) ticks += Number(fields[11]) + Number(fields[12]); // pgrp; utime + stime
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}
async function timed(work: () => Promise<unknown>, label?: string): Promise<number> {
  const motoBefore = motoGroup ? groupCpuSeconds(motoGroup) : 0;
  const start = process.hrtime.bigint();
  const used = process.cpuUsage();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { user, system } = process.cpuUsage(used);
  if (label) (cpu[label] ??= []).push((user + system) / 1e6);
  if (label && motoGroup) (motoCpu[label] ??= []).push(groupCpuSeconds(motoGroup) - motoBefore);
  return seconds;
}

/** [concurrency, bytes per GET, hashing threads (synkti only; default: the cores left)] */
type Setting = [number, number, number?];
const DEFAULTS: Setting = [DEFAULT_FETCH_CONCURRENCY, DEFAULT_MAX_GET_BYTES];
const name = ([c, r, t]: Setting) => `${c}x${r / MiB}MiB${t === undefined ? "" : ` ${t} threads`}`;
const GRID: Setting[] = [
  ...[8, 16, 32].flatMap((c) => [16, 32, 64, 128].map((r): Setting => [c, r * MiB])),
  ...[0, 1, 2].map((t): Setting => [DEFAULTS[0], DEFAULTS[1], t]),
];

export async function benchWeightsFetch(rounds = 2, explore = false): Promise<string[]> {
  const moto = await startMoto();
  motoGroup = moto.pid; // started as its own process group (test/support/moto.ts)
  const saved = { ...process.env };
  const root = mkdtempSync(path.join(tmpdir(), "synkti-bench-fetch-"));
  Object.assign(process.env, awsEnvFor(moto.url));
  const s3 = new S3Client(sdkConfigFor(moto.url));
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const entries = [];
    let bytes = 0;
    for (const [rel, size] of LAYOUT) {
      const body = randomFillSync(Buffer.alloc(size));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${MODEL}/${rel}`, Body: body }));
      entries.push({ path: rel, ...new ChunkHasher(CHUNK_SIZE).update(body).digest() });
      bytes += size;
    }
    const text = renderManifest(buildManifest(MODEL, entries, new Date(), "bench", CHUNK_SIZE));
    const manifestSha256 = sha256OfBytes(text);
    const manifestKey = `${MODEL}/manifest-${manifestSha256}.json`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey, Body: text }));
    const sums = entries.map((e) => `${e.sha256}  ${e.path}\n`).join("");

    const clients = createAwsClients({ role: "worker" });
    const [ranges, transfer] = await Promise.all([createRangeReader(clients), createS3Transfer(clients)]);
    await clients.accountId(); // STS once, outside every timing (the agent asks it at boot anyway)
    let n = 0;
    // Each run's folder is removed after its timing ends (clear()): deleting 300 MiB is no part of a fetch.
    const written: string[] = [];
    const destination = () => {
      const dir = path.join(root, `run-${n++}`);
      written.push(dir);
      return dir;
    };
    const clear = () => {
      for (const dir of written.splice(0)) rmSync(dir, { recursive: true, force: true });
    };

    const synkti = ([concurrency, maxGetBytes, hashThreads]: Setting) => async () => {
      const modelDir = destination();
      await fetchWeights(
        { ranges, readText: (b, k, s) => transfer.getText(b, k, s), clock: systemClock, log: silentLogger },
        { project: PROJECT, model: MODEL, bucket: BUCKET, prefix: `${MODEL}/`, manifestKey, manifestSha256, modelDir, progressEveryMs: 600_000, concurrency, maxGetBytes, ...(hashThreads === undefined ? {} : { hashThreads }) },
      );
    };
    const awsCli = async () => {
      const modelDir = destination();
      await run("aws", ["s3", "cp", "--recursive", "--only-show-errors", `s3://${BUCKET}/${MODEL}/`, modelDir, "--exclude", "manifest-*", "--endpoint-url", moto.url], { env: process.env, maxBuffer: 16 * MiB });
      writeFileSync(path.join(modelDir, ".sha256sums"), sums);
      await run("sha256sum", ["--check", "--quiet", "--strict", ".sha256sums"], { cwd: modelDir });
    };
    /**
     * Every byte once through parallel ranged GETs, dropped on arrival: the same range reader and
     * client synkti uses (so no SDK CRC32 pass either), without the hash, the disk and the manifest.
     */
    const limit = (concurrency: number, rangeBytes: number) => async () => {
      const jobs = LAYOUT.flatMap(([rel, size]) => Array.from({ length: Math.ceil(size / rangeBytes) }, (_, i) => ({ key: `${MODEL}/${rel}`, start: i * rangeBytes, end: Math.min(size, (i + 1) * rangeBytes) })));
      jobs.sort((a, b) => b.end - b.start - (a.end - a.start)); // longest first, as synkti orders them
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < jobs.length) {
            const job = jobs[next++]!;
            const got = await ranges.getRange(BUCKET, job.key, job);
            for await (const _ of got!.body);
          }
        }),
      );
    };
    // The limit: synkti's own setting, the old per-chunk one, fewer and more connections.
    const settings = unique([DEFAULTS, [8, 64 * MiB], [32, 64 * MiB], [32, 8 * MiB], [DEFAULT_FETCH_CONCURRENCY, 16 * MiB], ...(explore ? GRID.filter((s) => s[2] === undefined) : [])]);
    const samples = { synkti: [] as number[], aws: [] as number[], limit: [] as number[] };
    const limitBy: string[] = [];
    const explored: Record<string, { synkti: number[]; limit: number[] }> = {};
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, so nobody always meets a warmer moto.
      const order: Array<"synkti" | "aws" | "limit" | "explore"> = round % 2 === 0 ? ["synkti", "aws", "limit", "explore"] : ["explore", "limit", "aws", "synkti"];
      for (const who of order) {
        if (who === "synkti") samples.synkti.push(await timed(synkti(DEFAULTS), "synkti"));
        else if (who === "aws") samples.aws.push(await timed(awsCli, "aws CLI"));
        else if (who === "limit")
          for (const setting of settings) {
            const seconds = await timed(limit(setting[0], setting[1]), `limit ${name(setting)}`);
            samples.limit.push(seconds);
            limitBy.push(name(setting));
            if (explore) (explored[name(setting)] ??= { synkti: [], limit: [] }).limit.push(seconds);
          }
        else if (explore)
          for (const setting of GRID) {
            (explored[name(setting)] ??= { synkti: [], limit: [] }).synkti.push(await timed(synkti(setting), `synkti ${name(setting)}`));
            clear();
          }
        clear();
      }
    }
    const best = (xs: number[]) => Math.min(...xs);
    const rate = (s: number) => bytes / s / 1e6;
    const line = (label: string, xs: number[]) => `${label.padEnd(52)} best ${best(xs).toFixed(2)} s  ${rate(best(xs)).toFixed(0).padStart(5)} MB/s  (runs: ${xs.map((x) => x.toFixed(2)).join(", ")} s)`;
    const bestLimit = limitBy[samples.limit.indexOf(best(samples.limit))];
    const grid = Object.entries(explored).map(
      ([setting, { synkti: s, limit: l }]) => `  ${setting.padEnd(10)} synkti best ${s.length ? best(s).toFixed(2) : "-"} s (${s.map((x) => x.toFixed(2)).join(", ")})   limit best ${l.length ? best(l).toFixed(2) : "-"} s (${l.map((x) => x.toFixed(2)).join(", ")})`,
    );
    return [
      `${LAYOUT.length} files, ${(bytes / MiB).toFixed(0)} MiB (largest ${192} MiB, ${CHUNK_SIZE / MiB} MiB chunks), moto on 127.0.0.1, ${rounds} rounds, best of each`,
      line(`synkti fetch (${DEFAULTS[0]} GETs of up to ${DEFAULTS[1] / MiB} MiB, hash + write on ${defaultHashThreads()} threads)`, samples.synkti),
      line("aws s3 cp --recursive + sha256sum --check", samples.aws),
      line(`moto's limit (ranged GETs, no hash; best ${bestLimit})`, samples.limit),
      `CPU of this process, median s: ${Object.entries(cpu).map(([k, xs]) => `${k} ${median(xs).toFixed(2)}`).join(", ")}`,
      `CPU of moto, median s: ${Object.entries(motoCpu).map(([k, xs]) => `${k} ${median(xs).toFixed(2)}`).join(", ")}`,
      `synkti / aws CLI path: x${(best(samples.aws) / best(samples.synkti)).toFixed(2)}   synkti / moto's limit: ${((100 * best(samples.limit)) / best(samples.synkti)).toFixed(0)}%`,
      ...(explore ? ["explored (concurrency x bytes per GET):", ...grid] : []),
    ];
  } finally {
    s3.destroy();
    process.env = saved;
    rmSync(root, { recursive: true, force: true });
    await moto.stop();
  }
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchWeightsFetch(2, process.argv.includes("--explore"))) console.log(line);
}
