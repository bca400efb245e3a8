import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectNames } from "../../../src/infra/names.js";
import { sha256File } from "../../../src/preflight/worker/binary.js";
import type { StatusDocument } from "../../../src/cluster/status-document.js";
import { freePort } from "../../support/free-port.js";
import { ImdsEmulator } from "../../support/imds-emulator.js";
import { sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { BINARY } from "../../support/run-cli.js";
import { vllmStandinCommandTemplate } from "../../support/vllm-standin.js";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ChunkHasher } from "../../../src/artifacts/chunks.js";
import { sha256OfBytes } from "../../../src/artifacts/hash.js";
import { buildManifest, renderManifest } from "../../../src/artifacts/manifest.js";
import { createWorkerInfra, ec2For, launchMembers, MODEL, randomLoopback, until, weightsFolder } from "./harness.js";
import { isAlive } from "../../support/pid.js";

// The hidden `synkti agent` on the built binary, as the booter will run it: AWS credentials from
// the IMDS emulator (no keys in the environment), the exit codes of the contract.
let moto: Moto;
let ec2: EC2Client;
let modelsDir: string;
const sysfs = mkdtempSync(path.join(tmpdir(), "synkti-agent-bin-sys-"));
// A private copy: parallel test runs rebuild dist/synkti when sources change, and the checksum
// requirement must see the same bytes that were hashed.
const binary = path.join(sysfs, "synkti");

beforeAll(async () => {
  copyFileSync(BINARY, binary);
  moto = await startMoto();
  ec2 = ec2For(moto.url);
  modelsDir = weightsFolder();
});
afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
  rmSync(sysfs, { recursive: true, force: true });
  rmSync(modelsDir, { recursive: true, force: true });
});

async function startBinary(project: string, options: { modelsDir: string; expectedSha256?: string; env?: Record<string, string> }) {
  const [instanceId] = await launchMembers(ec2, project, 1);
  const host = randomLoopback();
  const imds = await ImdsEmulator.start({ instanceId: instanceId!, privateIp: host, tags: { SynktiCluster: project, SynktiRole: "worker" }, iamRole: projectNames(project).role });
  const statusPort = await freePort(host);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ENDPOINT_URL: moto.url,
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
    AWS_CONFIG_FILE: path.join(sysfs, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(sysfs, "no-aws-config"),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    SYNKTI_SYSFS_ROOT: sysfs,
    SYNKTI_MODELS_DIR: options.modelsDir,
    SYNKTI_MODEL_SERVER_COMMAND: vllmStandinCommandTemplate(),
    SYNKTI_STATUS_PORT: String(statusPort),
    SYNKTI_MODEL_SERVER_PORT: String(await freePort(host)),
    SYNKTI_WORKER_DRY_RUN: "1",
    ...(options.expectedSha256 ? { SYNKTI_EXPECTED_SHA256: options.expectedSha256 } : {}),
    ...options.env,
  };
  const child = spawn(binary, ["agent", "--project-name", project, "--model", MODEL], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const status = async () => (await (await fetch(`http://${host}:${statusPort}/status`, { signal: AbortSignal.timeout(2000) })).json()) as StatusDocument;
  return { child, imds, status, exited, instanceId: instanceId!, output: () => ({ stdout, stderr }) };
}


async function stop(child: ChildProcess, signal: NodeJS.Signals, exited: Promise<number | null>) {
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

describe("synkti agent (built binary)", () => {
  it("serves with credentials from IMDS; SIGTERM stops the model server and exits 0; SIGINT exits 130", async () => {
    const project = "wk-bin-ok";
    await createWorkerInfra(moto.url, project);
    const expectedSha256 = await sha256File(binary); // what user-data passes on: the checksum requirement passes
    for (const [signal, code] of [["SIGTERM", 0], ["SIGINT", 130]] as const) {
      const run = await startBinary(project, { modelsDir, expectedSha256 });
      try {
        const healthy = await until("healthy", async () => { const s = await run.status(); return s.modelServer.state === "healthy" && s; }, 30_000, 100).catch((error: Error) => {
          throw new Error(`${error.message}\n${run.output().stdout}\n${run.output().stderr.slice(-3000)}`);
        });
        expect(run.imds.count(`/latest/meta-data/iam/security-credentials/${projectNames(project).role}`)).toBeGreaterThan(0);
        expect(await stop(run.child, signal, run.exited)).toBe(code);
        expect(isAlive(healthy.modelServer.pid!)).toBe(false);
      } finally {
        run.child.kill("SIGKILL");
        await run.imds.close();
      }
    }
  }, 90_000);

  it("refuses to start when UNSAFE: exit 1 with the report and its fixes", async () => {
    const project = "wk-bin-unsafe";
    await createWorkerInfra(moto.url, project);
    const run = await startBinary(project, { modelsDir: "/nonexistent-models", expectedSha256: "0".repeat(64) });
    try {
      expect(await run.exited).toBe(1);
      const { stdout } = run.output();
      expect(stdout).toContain("worker preflight wk-bin-unsafe: UNSAFE");
      expect(stdout).toMatch(/MISSING\s+weights\s+\/nonexistent-models\/tiny-model has no manifest\.json/);
      expect(stdout).toContain(`Run: synkti upload model --project-name ${project} --model ${MODEL} --from <weights-dir>`);
      expect(stdout).toMatch(/MISSING\s+binary-checksum\s+.*launched with 000000000000\.\.\./);
      expect(stdout).toContain(`Run: synkti upload binary --project-name ${project}`);
    } finally {
      await run.imds.close();
    }
  }, 60_000);

  describe("fetches its own weights when launched with a pinned manifest (SYNKTI_EXPECTED_MANIFEST_SHA256)", () => {
    /** The weights and their pinned manifest (version 2) in the project's bucket, as `synkti upload model` leaves them. */
    async function uploadWeights(project: string, files: Record<string, Buffer>) {
      await createWorkerInfra(moto.url, project);
      const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
      const names = projectNames(project);
      for (const [rel, body] of Object.entries(files)) await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: `${MODEL}/${rel}`, Body: body }));
      const text = renderManifest(buildManifest(MODEL, Object.entries(files).map(([rel, body]) => ({ path: rel, ...new ChunkHasher().update(body).digest() })), new Date(0), "0.1.0"));
      await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.pinnedManifestKey(MODEL, sha256OfBytes(text)), Body: text }));
      const fresh = mkdtempSync(path.join(tmpdir(), "synkti-agent-fetch-"));
      return { s3, names, pin: sha256OfBytes(text), fresh };
    }
    async function cleanUp(run: Awaited<ReturnType<typeof startBinary>>, s3: S3Client, fresh: string) {
      run.child.kill("SIGKILL");
      await run.imds.close();
      s3.destroy();
      rmSync(fresh, { recursive: true, force: true });
    }
    const files = { "config.json": Buffer.from('{"layers":2}'), "model.safetensors": Buffer.alloc(70_000, 7) };

    it("fetches and verifies them, then serves; says so in its log", async () => {
      const project = "wk-bin-fetch";
      const { s3, pin, fresh } = await uploadWeights(project, files);
      const run = await startBinary(project, { modelsDir: fresh, expectedSha256: await sha256File(binary), env: { SYNKTI_EXPECTED_MANIFEST_SHA256: pin } });
      try {
        await until("healthy", async () => (await run.status().catch(() => undefined))?.modelServer.state === "healthy", 30_000, 100).catch((error: Error) => {
          throw new Error(`${error.message}\n${run.output().stdout.slice(-3000)}`);
        });
        expect(readFileSync(path.join(fresh, MODEL, "model.safetensors")).equals(files["model.safetensors"])).toBe(true);
        expect(sha256OfBytes(readFileSync(path.join(fresh, MODEL, "manifest.json")))).toBe(pin);
        expect(run.output().stderr + run.output().stdout).toContain("weights verified: 2 files");
        expect(await stop(run.child, "SIGTERM", run.exited)).toBe(0);
      } finally {
        await cleanUp(run, s3, fresh);
      }
    }, 60_000);

    it("refuses a corrupted byte in S3: exit 1, no model server, a failure record naming the file, chunk and fix", async () => {
      const project = "wk-bin-corrupt";
      const { s3, names, pin, fresh } = await uploadWeights(project, files);
      const bad = Buffer.from(files["model.safetensors"]);
      bad[12_345] = 0;
      await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: `${MODEL}/model.safetensors`, Body: bad }));
      const run = await startBinary(project, { modelsDir: fresh, env: { SYNKTI_EXPECTED_MANIFEST_SHA256: pin } });
      try {
        expect(await run.exited).toBe(1);
        const { stdout, stderr } = run.output();
        expect(`${stdout}${stderr}`).toContain("Weights file 'model.safetensors': chunk 1 of 1 (bytes 0-69999) does not hash to the manifest's SHA-256");
        expect(stdout).not.toContain("worker preflight"); // never got that far: no model server either
        const record = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: names.failureRecordKey(run.instanceId) }))).Body!.transformToString());
        expect(record).toMatchObject({ instanceId: run.instanceId, exitCode: 1 });
        expect(record.reason).toMatch(/^weights: Weights file 'model\.safetensors': chunk 1 of 1 .*\(fix: synkti upload model --project-name wk-bin-corrupt --model tiny-model --from <weights-dir>\)$/);
      } finally {
        await cleanUp(run, s3, fresh);
      }
    }, 60_000);
  });
});
