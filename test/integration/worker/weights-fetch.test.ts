/**
 * The worker's own weights fetch (src/worker/weights) against moto through the fault proxy: the
 * real S3 client (ExpectedBucketOwner, deadlines), a real manifest version 2 with small chunks
 * (1 MiB, so a few MiB make many chunks), and a counting wrapper around the range reader.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkHasher } from "../../../src/artifacts/chunks.js";
import { buildManifest, renderManifest } from "../../../src/artifacts/manifest.js";
import { createAwsClients } from "../../../src/aws/clients.js";
import { createRangeReader, type RangeReader } from "../../../src/aws/s3-ranges.js";
import { createS3Transfer } from "../../../src/aws/s3-transfer.js";
import { systemClock } from "../../../src/core/clock.js";
import { SynktiError } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/core/log.js";
import { fetchWeights, type WeightsFetchDeps, type WeightsFetchInput } from "../../../src/worker/weights/index.js";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";

const MiB = 1024 * 1024;
const CHUNK = MiB;
const MOTO_ACCOUNT = "123456789012";
const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

let moto: Moto;
let proxy: FaultProxy;
let s3: S3Client;
let root: string;
let saved: NodeJS.ProcessEnv;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.url });
  saved = { ...process.env };
  Object.assign(process.env, awsEnvFor(proxy.url));
  s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  root = mkdtempSync(path.join(tmpdir(), "synkti-weights-"));
  // What AWS does and moto does not: a request without the expected owner, or another one, is refused.
  proxy.addRule({ action: /^s3:/, when: (r) => r.headers["x-amz-expected-bucket-owner"] !== MOTO_ACCOUNT, error: "access-denied" });
});
afterAll(async () => {
  process.env = saved;
  s3?.destroy();
  rmSync(root, { recursive: true, force: true });
  await proxy?.close();
  await moto?.stop();
});

/** Files in S3 under `<model>/` and their pinned manifest (version 2, 1 MiB chunks), as an upload leaves them. */
async function uploaded(project: string, files: Record<string, Buffer>, manifestText?: (text: string) => string) {
  const bucket = `${project}-models`;
  const model = "org/m";
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const entries = [];
  for (const [rel, bytes] of Object.entries(files)) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${model}/${rel}`, Body: bytes, Metadata: { sha256: sha(bytes) } }));
    entries.push({ path: rel, ...new ChunkHasher(CHUNK).update(bytes).digest() });
  }
  let text = renderManifest(buildManifest(model, entries, new Date(0), "0.1.0", CHUNK));
  if (manifestText) text = manifestText(text);
  const manifestKey = `${model}/manifest-${sha(text)}.json`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: text }));
  const input: WeightsFetchInput = { project, model, bucket, prefix: `${model}/`, manifestKey, manifestSha256: sha(text), modelDir: path.join(root, project, model), concurrency: 4, progressEveryMs: 60_000, hashThreads: 2 }; // threads, as on a GPU instance
  return { bucket, model, input, files };
}

/** The real range reader, with every GET and every byte it delivers counted. */
async function counting(options: { abortAtGet?: { n: number; controller: AbortController } } = {}) {
  const clients = createAwsClients({ role: "worker", maxAttempts: 1 });
  const real = await createRangeReader(clients);
  const transfer = await createS3Transfer(clients);
  const gets: string[] = [];
  let bytes = 0;
  const ranges: RangeReader = {
    async getRange(bucket, key, range, signal) {
      if (options.abortAtGet && gets.length + 1 === options.abortAtGet.n) options.abortAtGet.controller.abort(new Error("the agent was killed"));
      gets.push(`${key}@${range.start}`);
      const got = await real.getRange(bucket, key, range, signal);
      if (!got) return got;
      const body = got.body;
      return {
        ...got,
        body: (async function* () {
          for await (const b of body) {
            bytes += b.byteLength;
            yield b;
          }
        })(),
      };
    },
  };
  const deps: WeightsFetchDeps = { ranges, readText: (b, k, s) => transfer.getText(b, k, s), clock: systemClock, log: silentLogger };
  return { deps, gets, bytes: () => bytes };
}

async function refusal(promise: Promise<unknown>): Promise<SynktiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SynktiError);
  return error as SynktiError;
}

describe("the worker's weights fetch", { timeout: 60_000 }, () => {
  it.each([
    ["on hashing threads", 2],
    ["on the main thread (no core to spare)", 0],
  ])("fetches each byte once (%s): one GET per run of up to maxGetBytes of chunks, every byte through the hash into its place, none read back", async (_, hashThreads) => {
    const files = { "model.safetensors": randomBytes(5 * MiB + 123), "sub/config.json": randomBytes(3000), "empty.txt": Buffer.alloc(0) };
    const { input } = await uploaded(`wf-once-${hashThreads}`, files);
    const c = await counting();
    const result = await fetchWeights(c.deps, { ...input, maxGetBytes: 4 * MiB, hashThreads });
    const total = 5 * MiB + 123 + 3000;
    expect(c.bytes()).toBe(total);
    expect(result).toMatchObject({ files: 3, bytes: total, chunks: 7, fetchedChunks: 7, reusedChunks: 0, fetchedBytes: total, verifiedOnDiskBytes: 0 });
    // The 6 chunks of the model as a GET of 4 and a GET of 2; the config in one; the empty file in none.
    expect(c.gets.sort()).toEqual(["org/m/model.safetensors@0", `org/m/model.safetensors@${4 * MiB}`, "org/m/sub/config.json@0"]);
    for (const [rel, bytes] of Object.entries(files)) expect(readFileSync(path.join(input.modelDir, rel)).equals(bytes)).toBe(true);
    // The manifest last, as the preflight and the failover read it.
    expect(sha(readFileSync(path.join(input.modelDir, "manifest.json")))).toBe(input.manifestSha256);
  });

  it("a fetch interrupted halfway resumes: finished chunks are re-verified on disk, never fetched again", async () => {
    const files = { "a.bin": randomBytes(4 * MiB), "b.bin": randomBytes(4 * MiB - 7) };
    const { input } = await uploaded("wf-resume", files);
    const controller = new AbortController();
    // One GET of 2 chunks at a time, killed when the 3rd starts: the first 4 chunks (all of a.bin) are on disk.
    const first = await counting({ abortAtGet: { n: 3, controller } });
    await expect(fetchWeights(first.deps, { ...input, concurrency: 1, maxGetBytes: 2 * MiB, signal: controller.signal })).rejects.toThrow(/killed/);
    expect(first.gets).toEqual(["org/m/a.bin@0", `org/m/a.bin@${2 * MiB}`, "org/m/b.bin@0"]);
    expect(existsSync(path.join(input.modelDir, "manifest.json"))).toBe(false);

    const second = await counting();
    const result = await fetchWeights(second.deps, input);
    expect(result).toMatchObject({ chunks: 8, reusedChunks: 4, fetchedChunks: 4, verifiedOnDiskBytes: 4 * MiB, fetchedBytes: 4 * MiB - 7 });
    expect(second.gets).toEqual(["org/m/b.bin@0"]); // b.bin's 4 chunks in one GET; nothing of a.bin
    for (const [rel, bytes] of Object.entries(files)) expect(readFileSync(path.join(input.modelDir, rel)).equals(bytes)).toBe(true);
  });

  it("a file changed on disk since (a damaged chunk) gets only that chunk again", async () => {
    const bytes = randomBytes(3 * MiB);
    const { input } = await uploaded("wf-damaged", { "w.bin": bytes });
    await fetchWeights((await counting()).deps, input);
    const { writeFileSync } = await import("node:fs");
    const damaged = Buffer.from(bytes);
    damaged[MiB + 10]! ^= 0xff;
    writeFileSync(path.join(input.modelDir, "w.bin"), damaged);
    const again = await counting();
    const result = await fetchWeights(again.deps, input);
    expect(again.gets).toEqual([`org/m/w.bin@${MiB}`]);
    expect(result).toMatchObject({ reusedChunks: 2, fetchedChunks: 1 });
    expect(readFileSync(path.join(input.modelDir, "w.bin")).equals(bytes)).toBe(true);
  });

  it("refuses a corrupted byte in S3 in the third chunk of one GET, naming the file and the chunk; the two before stay verified, and the run after the re-upload starts at the bad one", async () => {
    const good = randomBytes(3 * MiB + 5);
    const { input, bucket } = await uploaded("wf-corrupt", { "shard-2.safetensors": good, "ok.json": randomBytes(10) });
    const bad = Buffer.from(good);
    bad[2 * MiB + 1]! ^= 0x01;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "org/m/shard-2.safetensors", Body: bad }));
    const first = await counting();
    const error = await refusal(fetchWeights(first.deps, { ...input, concurrency: 1 }));
    expect(error.code).toBe("weights-corrupted");
    expect(error.kind).toBe("unsafe");
    expect(error.message).toMatch(/Weights file 'shard-2\.safetensors': chunk 3 of 4 \(bytes 2097152-3145727\) does not hash to the manifest's SHA-256/);
    expect(error.remedy).toBe("synkti upload model --project-name wf-corrupt --model org/m --from <weights-dir>");
    expect(existsSync(path.join(input.modelDir, "manifest.json"))).toBe(false);
    expect(first.gets).toEqual(["org/m/shard-2.safetensors@0"]); // all 4 chunks asked for in one GET
    // Refused when its last byte landed: nothing after it was written (the 4th chunk is still a hole).
    const onDisk = readFileSync(path.join(input.modelDir, "shard-2.safetensors"));
    expect(onDisk.subarray(0, 2 * MiB).equals(good.subarray(0, 2 * MiB))).toBe(true);
    expect(onDisk.subarray(3 * MiB).equals(Buffer.alloc(5))).toBe(true);

    // The fix the refusal names puts the right bytes back; the next run keeps chunks 1-2 (re-verified on disk).
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "org/m/shard-2.safetensors", Body: good }));
    const again = await counting();
    const result = await fetchWeights(again.deps, input);
    expect(again.gets.filter((g) => g.includes("shard-2"))).toEqual([`org/m/shard-2.safetensors@${2 * MiB}`]);
    expect(again.bytes()).toBe(MiB + 5 + (again.gets.includes("org/m/ok.json@0") ? 10 : 0));
    expect(result).toMatchObject({ chunks: 5, fetchedChunks: result.chunks - result.reusedChunks });
    expect(result.reusedChunks).toBeGreaterThanOrEqual(2);
    expect(readFileSync(path.join(input.modelDir, "shard-2.safetensors")).equals(good)).toBe(true);
  });

  it("a connection cut in the middle of a GET of several chunks resumes at the first chunk not yet verified, not at the start of the GET", async () => {
    const bytes = randomBytes(4 * MiB);
    const { input } = await uploaded("wf-cut", { "a.bin": bytes });
    // The one GET of all 4 chunks loses its connection 2.5 chunks in: chunks 1-2 verified, the 3rd half there.
    const cut = proxy.addRule({ action: "s3:GetObject", when: (r) => r.path.endsWith("/a.bin") && r.headers.range === `bytes=0-${4 * MiB - 1}`, times: 1, cutAfterBytes: 2.5 * MiB });
    const c = await counting();
    try {
      const result = await fetchWeights(c.deps, input);
      expect(proxy.ruleHits(cut)).toBe(1);
      expect(result).toMatchObject({ fetchedChunks: 4, fetchedBytes: 4 * MiB });
    } finally {
      proxy.removeRule(cut);
    }
    expect(c.gets).toEqual(["org/m/a.bin@0", `org/m/a.bin@${2 * MiB}`]);
    expect(c.bytes()).toBe(2.5 * MiB + 2 * MiB); // the half chunk lost, nothing verified fetched twice
    expect(readFileSync(path.join(input.modelDir, "a.bin")).equals(bytes)).toBe(true);
  });

  it.each([
    ["../x", /manifest entry|path '\.\.\/x' has a '\.\.' segment/],
    ["*", /path '\*' contains a glob/],
  ])("refuses a manifest entry %j, naming it, and writes nothing", async (bad, message) => {
    const { input } = await uploaded(`wf-path-${bad === "*" ? "glob" : "dots"}`, { "a.bin": randomBytes(10) }, (text) => text.replace('"path": "a.bin"', `"path": ${JSON.stringify(bad)}`));
    const error = await refusal(fetchWeights((await counting()).deps, input));
    expect(error.code).toBe("weights-manifest-invalid");
    expect(error.message).toMatch(message);
    expect(existsSync(input.modelDir)).toBe(false);
    expect(existsSync(path.join(input.modelDir, "..", "x"))).toBe(false);
  });

  it("refuses a version 1 manifest with the command that rewrites it", async () => {
    const bytes = randomBytes(10);
    const { input } = await uploaded("wf-v1", { "a.bin": bytes }, () => `${JSON.stringify({ model: "org/m", files: [{ path: "a.bin", size: 10, sha256: sha(bytes) }], createdAt: "x", synktiVersion: "0.0.1" })}\n`);
    const error = await refusal(fetchWeights((await counting()).deps, input));
    expect(error.code).toBe("weights-manifest-version");
    expect(error.message).toMatch(/is version 1 \(no per-chunk SHA-256\)/);
    expect(error.remedy).toBe("synkti upload model --project-name wf-v1 --model org/m --from <weights-dir>");
  });

  it("refuses a manifest that is not the pinned one, and a file missing from S3, naming it", async () => {
    const { input, bucket } = await uploaded("wf-missing", { "a.bin": randomBytes(10), "gone.bin": randomBytes(10) });
    expect((await refusal(fetchWeights((await counting()).deps, { ...input, manifestSha256: "0".repeat(64) }))).code).toBe("weights-manifest-mismatch");
    const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "org/m/gone.bin" }));
    const error = await refusal(fetchWeights((await counting()).deps, input));
    expect(error.message).toMatch(/s3:\/\/wf-missing-models\/org\/m\/gone\.bin is missing: the manifest lists 'gone\.bin'/);
  });

  it("retries a dropped connection, but not S3's refusal, which it names with where to look", async () => {
    const bytes = randomBytes(2 * MiB);
    const { input } = await uploaded("wf-faults", { "a.bin": bytes });
    // The first GET of a.bin loses its connection before any answer: asked again, the file is whole.
    const drop = proxy.addRule({ action: "s3:GetObject", when: (r) => r.path.endsWith("/a.bin") && r.headers.range === `bytes=0-${2 * MiB - 1}`, times: 1, drop: true });
    const c = await counting();
    try {
      await fetchWeights(c.deps, input);
      expect(proxy.ruleHits(drop)).toBe(1);
    } finally {
      proxy.removeRule(drop);
    }
    expect(c.gets).toEqual(["org/m/a.bin@0", "org/m/a.bin@0"]);
    expect(readFileSync(path.join(input.modelDir, "a.bin")).equals(bytes)).toBe(true);

    rmSync(input.modelDir, { recursive: true, force: true });
    const deny = proxy.addRule({ action: "s3:GetObject", when: (r) => r.path.endsWith("/a.bin"), error: "access-denied" });
    const d = await counting();
    try {
      const error = await refusal(fetchWeights(d.deps, { ...input, concurrency: 1 }));
      expect(error.code).toBe("weights-unreachable");
      expect(error.message).toMatch(/^S3 refused chunks 1-2 of 2 \(bytes 0-2097151\) of 'a\.bin' \(s3:\/\/wf-faults-models\/org\/m\/a\.bin\)/);
      expect(error.remedy).toMatch(/^synkti infra status --project-name wf-faults/);
      expect(d.gets.filter((g) => g === "org/m/a.bin@0")).toHaveLength(1); // not retried
    } finally {
      proxy.removeRule(deny);
    }
  });

  it("sends ExpectedBucketOwner on every request (the proxy, like AWS, refuses one without it)", async () => {
    const { input } = await uploaded("wf-owner", { "a.bin": randomBytes(2 * MiB) });
    proxy.resetCounts();
    await fetchWeights((await counting()).deps, input);
    expect(proxy.calls().filter((c) => c.action.startsWith("s3:")).every((c) => c.outcome === "forwarded")).toBe(true);
    expect(proxy.counts()["s3:GetObject"]).toBe(2); // the manifest and one GET of both chunks
    // The rule bites: the same GET without the header is refused.
    const bare = new S3Client({ ...sdkConfigFor(proxy.url), maxAttempts: 1 });
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    await expect(bare.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.manifestKey }))).rejects.toThrow(/Access Denied|AccessDenied/);
    bare.destroy();
  });
});

describe("the range reader", { timeout: 60_000 }, () => {
  it("hands over the body as it comes off the socket: no CRC32 pass of the SDK's on top of the chunks' SHA-256", async () => {
    const { bucket } = await uploaded("wf-crc", { "a.bin": randomBytes(1000) }); // one PUT: S3 (and moto) keep its CRC32
    const reader = await createRangeReader(createAwsClients({ role: "worker", maxAttempts: 1 }));
    const got = await reader.getRange(bucket, "org/m/a.bin", { start: 0, end: 1000 });
    expect(got?.objectSize).toBe(1000);
    expect(got?.body.constructor.name).toBe("LeanBody"); // the SDK's would be its ChecksumStream around it
    let bytes = 0;
    for await (const b of got!.body) bytes += b.byteLength;
    expect(bytes).toBe(1000);
  });
});

describe("the model folder the fetch leaves for the model server", { timeout: 60_000 }, () => {
  it("replaces a link planted in the model folder (a folder link, a file link, a hard link) and never writes through it", async () => {
    const files = { "a.bin": randomBytes(2 * MiB), "b.bin": randomBytes(100), "sub/config.json": randomBytes(3000) };
    const { input } = await uploaded("wf-links", files);
    const outside = path.join(root, "wf-links-outside");
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, "config.json"), "outside, untouched");
    writeFileSync(path.join(outside, "victim"), "outside, untouched");
    mkdirSync(input.modelDir, { recursive: true });
    symlinkSync(outside, path.join(input.modelDir, "sub"));
    symlinkSync(path.join(outside, "victim"), path.join(input.modelDir, "a.bin"));
    writeFileSync(path.join(outside, "hard"), "outside, untouched");
    linkSync(path.join(outside, "hard"), path.join(input.modelDir, "b.bin"));
    await fetchWeights((await counting()).deps, input);
    expect(readFileSync(path.join(outside, "config.json"), "utf8")).toBe("outside, untouched");
    expect(readFileSync(path.join(outside, "victim"), "utf8")).toBe("outside, untouched");
    expect(readFileSync(path.join(outside, "hard"), "utf8")).toBe("outside, untouched");
    expect(lstatSync(path.join(input.modelDir, "sub")).isDirectory()).toBe(true);
    for (const [rel, bytes] of Object.entries(files)) expect(readFileSync(path.join(input.modelDir, rel)).equals(bytes)).toBe(true);
  });

  it("leaves folders 0755 and files 0644 (the model server's user reads them) whatever the agent's umask or a resumed file's mode", async () => {
    const files = { "a.bin": randomBytes(MiB + 1), "sub/deeper/b.json": randomBytes(100) };
    const { input } = await uploaded("wf-modes", files);
    const previous = process.umask(0o077);
    try {
      await fetchWeights((await counting()).deps, input);
      chmodSync(path.join(input.modelDir, "a.bin"), 0o600);
      chmodSync(path.join(input.modelDir, "sub"), 0o700);
      await fetchWeights((await counting()).deps, input);
    } finally {
      process.umask(previous);
    }
    const mode = (p: string) => (statSync(path.join(input.modelDir, p)).mode & 0o777).toString(8);
    expect([mode("."), mode(".."), mode("sub"), mode("sub/deeper")]).toEqual(["755", "755", "755", "755"]);
    expect([mode("a.bin"), mode("sub/deeper/b.json")]).toEqual(["644", "644"]);
  });

  it("removes the folder's manifest (its 'complete and verified' mark) before touching a file: a re-fetch that stops midway leaves none", async () => {
    const { input } = await uploaded("wf-mark", { "a.bin": randomBytes(3 * MiB) });
    await fetchWeights((await counting()).deps, input);
    writeFileSync(path.join(input.modelDir, "a.bin"), Buffer.alloc(3 * MiB)); // the right size, the wrong bytes
    const controller = new AbortController();
    const stopped = await counting({ abortAtGet: { n: 1, controller } });
    await expect(fetchWeights(stopped.deps, { ...input, concurrency: 1, signal: controller.signal })).rejects.toThrow(/killed/);
    expect(existsSync(path.join(input.modelDir, "manifest.json"))).toBe(false);
  });
});

describe("a disk too small for the weights", { timeout: 60_000 }, () => {
  it("is refused before the first GET, with both sizes and where to look; a resume that needs no more space goes on with none free", async () => {
    const { input } = await uploaded("wf-space", { "a.bin": randomBytes(2 * MiB), "b.bin": randomBytes(MiB) });
    const small = await counting();
    const error = await refusal(fetchWeights({ ...small.deps, freeBytes: async () => MiB }, input));
    expect(small.gets).toEqual([]);
    expect(error.code).toBe("weights-disk");
    expect(error.message).toMatch(/^No space left on the device of .*wf-space\/org\/m for the weights \(the weights need 3\.15 MB more, 1\.05 MB is free\)/);
    expect(error.message).not.toMatch(/while writing/);
    expect(error.remedy).toMatch(/^df -h .*wf-space\/org\/m/);

    await fetchWeights((await counting()).deps, input);
    const again = await counting();
    const result = await fetchWeights({ ...again.deps, freeBytes: async () => 0 }, input);
    expect(result).toMatchObject({ reusedChunks: 3, fetchedChunks: 0 });
  });
});

describe("an answer longer than the range asked for", { timeout: 60_000 }, () => {
  it("(a server or proxy that ignored the Range: the whole object, no Content-Range) is refused before it overwrites a chunk already verified; the retry lands the right bytes", async () => {
    const bytes = randomBytes(3 * MiB);
    const { input } = await uploaded("wf-norange", { "w.bin": bytes });
    const c = await counting();
    // Chunk 2 lands first; then chunk 1's first answer is the whole object, as if Range were ignored.
    let chunk2Landed!: () => void;
    const landed2 = new Promise<void>((resolve) => (chunk2Landed = resolve));
    let ignored = 0;
    const ranges: RangeReader = {
      async getRange(bucket, key, range, signal) {
        if (range.start === MiB && ignored === 0) {
          ignored += 1;
          await landed2;
          await new Promise((r) => setTimeout(r, 200));
          const whole = await c.deps.ranges.getRange(bucket, key, { start: 0, end: 3 * MiB }, signal);
          return whole && { body: whole.body };
        }
        const got = await c.deps.ranges.getRange(bucket, key, range, signal);
        if (!got || range.start !== 2 * MiB) return got;
        return {
          ...got,
          body: (async function* () {
            yield* got.body;
            chunk2Landed();
          })(),
        };
      },
    };
    await fetchWeights({ ...c.deps, ranges }, { ...input, concurrency: 3, maxGetBytes: MiB }); // one GET per chunk; the retry waits 1 s
    expect(ignored).toBe(1);
    const onDisk = readFileSync(path.join(input.modelDir, "w.bin"));
    expect(onDisk.byteLength).toBe(3 * MiB);
    expect(onDisk.equals(bytes)).toBe(true);
  });
});
