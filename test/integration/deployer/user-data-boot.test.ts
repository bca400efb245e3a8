/**
 * The rendered user-data, run by bash as cloud-init would, against moto with the aws CLI: the
 * local cloud's way of booting (install prefix and models folder in a temp folder, endpoints on
 * loopback). It must run the binary only when its SHA-256 is the embedded one and every weight
 * file matches the manifest.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderUserData } from "../../../src/deployer/launch/user-data.js";
import { projectNames } from "../../../src/infra/names.js";
import { ImdsEmulator } from "../../support/imds-emulator.js";
import { awsEnvFor } from "../../support/moto.js";
import { BINARY_BYTES, readyProject, sha256, startHarness, type Harness } from "./harness.js";

const TEMPLATE = readFileSync(path.resolve(import.meta.dirname, "../../../scripts/user-data.sh.tpl"), "utf8");
let h: Harness;
let root: string;
beforeAll(async () => {
  h = await startHarness();
  root = mkdtempSync(path.join(tmpdir(), "synkti-boot-"));
  // What AWS does and moto does not: refuse an S3 request whose expected owner is not the bucket's.
  h.proxy.addRule({
    action: /^s3:/,
    when: (r) => r.headers["x-amz-expected-bucket-owner"] !== undefined && r.headers["x-amz-expected-bucket-owner"] !== MOTO_ACCOUNT,
    error: "access-denied",
  });
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await h?.close();
});

function runBash(script: string, env: Record<string, string>, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-s"], { env, stdio: ["pipe", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(script);
  });
}

/** moto's account, the owner of every bucket it holds (moto itself ignores the expected owner). */
const MOTO_ACCOUNT = "123456789012";

/** What a launch would pin now: the SHA-256 of the model's latest manifest. */
async function manifestSha256(project: string, model = "tiny-model"): Promise<string> {
  return sha256((await objectText(`${project}-models`, projectNames(project).manifestKey(model))) ?? "no manifest");
}

async function boot(project: string, name: string, binarySha256 = sha256(BINARY_BYTES), extraEnv: Record<string, string> = {}, bucketOwner = MOTO_ACCOUNT, pinnedManifest?: string) {
  const prefix = path.join(root, name, "bin");
  const models = path.join(root, name, "models");
  const manifest = pinnedManifest ?? (await manifestSha256(project));
  const script = renderUserData(TEMPLATE, { project, model: "tiny-model", bucket: `${project}-models`, binarySha256, manifestSha256: manifest, region: "us-east-1", bucketOwner });
  // Only what the local cloud sets: PATH, the two folders, and loopback endpoints (plus dummy keys
  // standing in for the instance profile's credentials).
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, SYNKTI_INSTALL_PREFIX: prefix, SYNKTI_MODELS_DIR: models, ...awsEnvFor(h.proxy.url), ...extraEnv };
  // Not spawnSync: the fault proxy runs in this process and must keep answering the aws CLI.
  const run = await runBash(script, env, 100_000);
  // The local cloud's boot log: next to the install prefix (production: /var/log/synkti-boot.log).
  return { ...run, prefix, models, bootLog: path.join(root, name, "synkti-boot.log") };
}

/** A moto instance of `project` and a metadata service naming it: what user-data asks for its id. */
async function instanceWithMetadata(project: string) {
  const out = await h.ec2.send(
    new RunInstancesCommand({ ImageId: "ami-12c6146b", InstanceType: "g5.xlarge", MinCount: 1, MaxCount: 1, TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiCluster", Value: project }, { Key: "SynktiState", Value: "booting" }] }] }),
  );
  const id = out.Instances![0]!.InstanceId!;
  const imds = await ImdsEmulator.start({ instanceId: id });
  return { id, imds };
}

async function objectText(bucket: string, key: string): Promise<string | undefined> {
  try {
    return await (await h.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString("utf8");
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw error;
  }
}

/** Other bytes under the pinned key of the binary a launch embedded (a corrupted or replaced object). */
async function tamperPinnedBinary(project: string): Promise<void> {
  const key = projectNames(project).pinnedBinaryKey(sha256(BINARY_BYTES));
  await h.s3.send(new PutObjectCommand({ Bucket: `${project}-models`, Key: key, Body: "#!/bin/sh\necho another build\n", Metadata: { sha256: sha256(BINARY_BYTES) } }));
}

async function instance(id: string) {
  const found = (await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  return { state: found.State?.Name, tags: Object.fromEntries((found.Tags ?? []).map((t) => [t.Key!, t.Value!])) };
}

// Each boot runs the aws CLI four or five times (about 1-2 s each on a busy 2-core machine) plus
// the retries' sleeps: more than the suite's default 30 s when the machine is loaded.
describe("user-data boot (bash + aws CLI against moto)", { timeout: 120_000 }, () => {
  it("downloads and verifies the binary, then runs synkti --project-name P --model M; the weights are the agent's", async () => {
    await readyProject(h, "it-boot");
    const run = await boot("it-boot", "ok");
    expect(run.stderr).toContain("binary verified");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(`synkti-stand-in --project-name it-boot --model tiny-model models=${run.models} sha256=${sha256(BINARY_BYTES)}`);
    expect(statSync(path.join(run.prefix, "synkti")).mode & 0o777).toBe(0o755);
    // User-data fetched no weight: the verified binary does (src/worker/weights), with the pin it is given.
    expect(existsSync(path.join(run.models, "tiny-model"))).toBe(false);
    expect(readdirSync(run.prefix)).toEqual(["synkti"]); // no temp file left behind
  });

  it("refuses to run a binary whose SHA-256 is not the embedded one", async () => {
    await readyProject(h, "it-boot-bin");
    await tamperPinnedBinary("it-boot-bin");
    const run = await boot("it-boot-bin", "bad-binary");
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/FATAL: binary SHA-256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}; refusing to run it/);
    expect(run.stdout).not.toContain("synkti-stand-in");
    expect(readdirSync(run.prefix)).toEqual([]);
  });

  it("a refused checksum leaves its trace: the failure record, the boot log, SynktiState=failed, then terminates", async () => {
    const names = await readyProject(h, "it-boot-trace");
    const { id, imds } = await instanceWithMetadata("it-boot-trace");
    await tamperPinnedBinary("it-boot-trace");
    try {
      const run = await boot("it-boot-trace", "trace", sha256(BINARY_BYTES), { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url });
      expect(run.status).toBe(1);
      const record = JSON.parse((await objectText(names.bucket, names.failureRecordKey(id)))!);
      expect(record).toEqual({ instanceId: id, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), exitCode: 1, reason: expect.stringMatching(/^binary SHA-256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}; refusing to run it/) });
      expect(Math.abs(Date.now() - Date.parse(record.at))).toBeLessThan(120_000);
      const log = await objectText(names.bucket, names.bootLogKey(id));
      expect(log).toContain(`synkti-boot: downloading s3://${names.bucket}/bin/synkti-${sha256(BINARY_BYTES)}`);
      expect(log).toContain("FATAL: binary SHA-256 mismatch");
      // The boot log is also on the instance, as it was printed.
      expect(readFileSync(run.bootLog, "utf8")).toContain("FATAL: binary SHA-256 mismatch");
      const after = await instance(id);
      expect(after.tags.SynktiState).toBe("failed");
      expect(["shutting-down", "terminated"]).toContain(after.state);
    } finally {
      await imds.close();
    }
  });

  it("writes the trace only to the expected owner's bucket", async () => {
    await readyProject(h, "it-boot-trace-owner");
    const { id, imds } = await instanceWithMetadata("it-boot-trace-owner");
    await tamperPinnedBinary("it-boot-trace-owner");
    try {
      const run = await boot("it-boot-trace-owner", "trace-owner", sha256(BINARY_BYTES), { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }, "999999999999", sha256("unused"));
      expect(run.status).toBe(1);
      // The proxy plays AWS: another expected owner is refused, so nothing lands in this bucket.
      expect(run.stderr).toContain(`could not write s3://it-boot-trace-owner-models/checkpoints/logs/${id}.json`);
      expect(await objectText("it-boot-trace-owner-models", projectNames("it-boot-trace-owner").failureRecordKey(id))).toBeUndefined();
    } finally {
      await imds.close();
    }
  });

  it("refuses the binary of a bucket of the same name that another account owns", async () => {
    await readyProject(h, "it-boot-owner");
    const run = await boot("it-boot-owner", "other-owner", sha256(BINARY_BYTES), {}, "999999999999");
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/FATAL: could not download s3:\/\/it-boot-owner-models\/bin\/synkti-[0-9a-f]{64}, the build this worker was launched with, from a bucket of account 999999999999/);
    expect(existsSync(path.join(run.prefix, "synkti"))).toBe(false);
    expect(run.stdout).not.toContain("synkti-stand-in");
  });

  it("a replacement launched after a re-upload of binary and model boots the binary its user-data pins", async () => {
    const names = await readyProject(h, "it-boot-pinned");
    const bucket = names.bucket;
    const pinnedManifest = await manifestSha256("it-boot-pinned");
    // The launch's user-data, as a failover repeats it: rendered before the re-uploads.
    // Then a new build and a new model version replace the latest keys (and add their own pinned ones).
    const next = Buffer.from('#!/bin/sh\necho the next build "$@"\n');
    const put = (Key: string, Body: Uint8Array | string, Metadata?: Record<string, string>) => h.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ...(Metadata ? { Metadata } : {}) }));
    await put(names.binaryKey, next, { sha256: sha256(next), version: "0.2.0" });
    await put(names.pinnedBinaryKey(sha256(next)), next, { sha256: sha256(next), version: "0.2.0" });
    const shard = "a new shard";
    await put("tiny-model/weights/part-1.safetensors", shard, { sha256: sha256(shard) });
    const old = JSON.parse((await objectText(bucket, names.manifestKey("tiny-model")))!);
    const manifest = `${JSON.stringify({ ...old, files: [...old.files, { path: "weights/part-1.safetensors", size: shard.length, sha256: sha256(shard) }] }, null, 2)}\n`;
    await put(names.manifestKey("tiny-model"), manifest);
    await put(names.pinnedManifestKey("tiny-model", sha256(manifest)), manifest);

    const run = await boot("it-boot-pinned", "pinned", sha256(BINARY_BYTES), {}, MOTO_ACCOUNT, pinnedManifest);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(`synkti-stand-in --project-name it-boot-pinned --model tiny-model models=${run.models} sha256=${sha256(BINARY_BYTES)}`);
  });

  describe("keeps the worker agent running, by its exit code", () => {
    // An agent stand-in that exits with the codes listed in $AGENT_EXITS, one per run, and counts its runs.
    const AGENT = Buffer.from('#!/bin/sh\nn=$(( $(cat "$AGENT_RUNS" 2>/dev/null || echo 0) + 1 ))\necho "$n" >"$AGENT_RUNS"\necho "agent run $n"\nexit "$(echo $AGENT_EXITS | cut -d" " -f"$n")"\n');
    let project = 0;
    async function bootAgent(exits: string) {
      const name = `it-boot-agent-${++project}`;
      await readyProject(h, name, { binary: AGENT });
      const runs = path.join(root, `${name}.runs`);
      const run = await boot(name, name, sha256(AGENT), { AGENT_RUNS: runs, AGENT_EXITS: exits });
      return { ...run, runs: Number(readFileSync(runs, "utf8")) };
    }

    it("exit 0 (stopped on purpose): the boot ends cleanly, no restart", async () => {
      const run = await bootAgent("0");
      expect(run.status, run.stderr).toBe(0);
      expect(run.runs).toBe(1);
      expect(run.stderr).toContain("the worker agent stopped (exit 0)");
    });

    it("exit 1 (UNSAFE preflight): no restart; the instance is told to terminate itself", async () => {
      const run = await bootAgent("1");
      expect(run.status).toBe(1);
      expect(run.runs).toBe(1);
      expect(run.stderr).toContain("FATAL: the worker agent will not serve (exit 1)");
      // No metadata service here (loopback port 9): the attempt is made and its failure said.
      expect(run.stderr).toContain("could not terminate this instance; it stays up idle until: synkti down --project-name");
    });

    it("a crash is restarted with backoff, and a healthy run after it ends the boot cleanly", async () => {
      const run = await bootAgent("4 137 0");
      expect(run.status, run.stderr).toBe(0);
      expect(run.runs).toBe(3);
      expect(run.stderr).toContain("the worker agent crashed (exit 4); restarting it in 1 s (1 of 3 restarts)");
      expect(run.stderr).toContain("the worker agent crashed (exit 137); restarting it in 2 s (2 of 3 restarts)");
    });

    it("an agent that ended itself keeps its own failure record; the boot log is still left", async () => {
      const name = `it-boot-agent-${++project}`;
      // An agent stand-in that writes its record (as the real one does) and exits 1.
      const agent = Buffer.from(
        '#!/bin/sh\necho "agent: worker preflight UNSAFE" >&2\nprintf \'{"reason":"from the agent"}\' >"$TMPDIR/r.json"\naws s3api put-object --bucket "$RECORD_BUCKET" --key "$RECORD_KEY" --body "$TMPDIR/r.json" >/dev/null\nexit 1\n',
      );
      const names = await readyProject(h, name, { binary: agent });
      const { id, imds } = await instanceWithMetadata(name);
      try {
        const tmp = mkdtempSync(path.join(root, "tmp-"));
        const run = await boot(name, name, sha256(agent), { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, TMPDIR: tmp, RECORD_BUCKET: names.bucket, RECORD_KEY: names.failureRecordKey(id) });
        expect(run.status).toBe(1);
        expect(run.stderr).toContain("the agent left its own failure record: kept");
        expect(JSON.parse((await objectText(names.bucket, names.failureRecordKey(id)))!)).toEqual({ reason: "from the agent" });
        expect(await objectText(names.bucket, names.bootLogKey(id))).toContain("agent: worker preflight UNSAFE");
      } finally {
        await imds.close();
      }
    });

    it("a 4th crash in a row gives up: the instance is told to terminate itself", async () => {
      const run = await bootAgent("4 4 4 4 0");
      expect(run.status).toBe(1);
      expect(run.runs).toBe(4);
      expect(run.stderr).toContain("FATAL: the worker agent crashed 4 times in a row (last exit 4)");
      expect(run.stderr).toContain("could not terminate this instance; it stays up idle until: synkti down --project-name");
    }, 120_000);
  });
});
