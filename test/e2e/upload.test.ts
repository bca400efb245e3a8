import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { EC2Client, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../support/moto.js";
import { BINARY, runCli } from "../support/run-cli.js";

// `synkti upload binary|model`, the built binary against moto: exit codes, JSON, remedies, Ctrl-C.
let moto: Moto;
let s3: S3Client;
let env: Record<string, string>;
const dir = mkdtempSync(path.join(tmpdir(), "synkti-e2e-upload-"));
const MiB = 1024 * 1024;

beforeAll(async () => {
  moto = await startMoto();
  env = awsEnvFor(moto.url);
  s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
});
afterAll(async () => {
  s3?.destroy();
  rmSync(dir, { recursive: true, force: true });
  await moto?.stop();
});

const run = (args: string[], timeoutMs = 60_000) => runCli(args, { env, timeoutMs });
const bucket = (project: string) => s3.send(new CreateBucketCommand({ Bucket: `${project}-models` }));

function weights(name: string, files: Record<string, number>): string {
  const root = path.join(dir, name);
  for (const [rel, size] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), randomBytes(size));
  }
  return root;
}

describe("synkti upload (built binary)", () => {
  it("exit 1 with the infra command when the bucket is missing", async () => {
    const binary = await run(["upload", "binary", "--project-name", "e2e-nobucket", "--output", "json"]);
    expect(binary.code).toBe(1);
    expect(binary.stderr).toContain("Run: synkti infra up --project-name e2e-nobucket");
    expect(JSON.parse(binary.stdout)).toMatchObject({ error: { code: "bucket-missing" } });

    const model = await run(["upload", "model", "--project-name", "e2e-nobucket", "--model", "m", "--from", weights("nb", { a: 10 }), "--region", "us-east-1"]);
    expect(model.code).toBe(1);
    expect(model.stderr).toContain("Run: synkti infra up --project-name e2e-nobucket --region us-east-1");
  });

  it("exit 2 on a bad model name, a bad concurrency, a missing folder and a non-linux build", async () => {
    const bad = await run(["upload", "model", "--project-name", "e2e-usage", "--model", "../etc", "--from", dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid model name '\.\.\/etc'.*'\.\.' part/);
    expect((await run(["upload", "model", "--project-name", "e2e-usage", "--model", "m", "--from", dir, "--concurrency", "0"])).code).toBe(2);
    const missing = await run(["upload", "model", "--project-name", "e2e-usage", "--model", "m", "--from", path.join(dir, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/is not a folder/);
    const mac = path.join(dir, "synkti-darwin-arm64");
    writeFileSync(mac, Buffer.from("cffaedfe0c000001000000000000000000000000", "hex"));
    const wrong = await run(["upload", "binary", "--project-name", "e2e-usage", "--file", mac]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/Mach-O arm64 executable \(macOS\); workers run linux-x64/);
  });

  it("upload binary: the build itself, with its sha256 and version; then unchanged", async () => {
    await bucket("e2e-bin");
    const first = await run(["upload", "binary", "--project-name", "e2e-bin", "--file", BINARY, "--output", "json"]);
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout);
    const sha256 = createHash("sha256").update(readFileSync(BINARY)).digest("hex");
    const version = (await runCli(["--version"])).stdout.trim();
    expect(result).toMatchObject({ status: "uploaded", bucket: "e2e-bin-models", key: "bin/synkti", checksumKey: "bin/synkti.sha256", sha256, version, versionSource: "binary" });
    expect(first.stderr).not.toContain("\r"); // no progress bar off a TTY

    const second = await run(["upload", "binary", "--project-name", "e2e-bin", "--file", BINARY]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Unchanged: s3:\/\/e2e-bin-models\/bin\/synkti already holds this build/);
  });

  it("scripts/upload-binary.sh wraps it from any folder", async () => {
    const script = path.resolve(import.meta.dirname, "..", "..", "scripts", "upload-binary.sh");
    const sh = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(script, args, { cwd: tmpdir(), env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
        child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
    expect((await sh([])).code).toBe(2);
    const missing = await sh(["--project-name", "e2e-script"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Run: synkti infra up --project-name e2e-script");
    await bucket("e2e-script");
    const done = await sh(["--project-name", "e2e-script", "--output", "json"]);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ status: "uploaded", file: BINARY });
  });

  it("upload model: small files, one multipart; then unchanged", async () => {
    await bucket("e2e-model");
    const from = weights("small", { "model.safetensors": 11 * MiB, "config.json": 200, "tok/vocab.txt": 5000 });
    const first = await run(["upload", "model", "--project-name", "e2e-model", "--model", "Org/Tiny-1", "--from", from, "--output", "json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: "uploaded", model: "Org/Tiny-1", manifestKey: "Org/Tiny-1/manifest.json", files: 3, skipped: [] });
    const second = await run(["upload", "model", "--project-name", "e2e-model", "--model", "Org/Tiny-1", "--from", from]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Unchanged: s3:\/\/e2e-model-models\/Org\/Tiny-1\/manifest.json already lists these 3 files/);
  });

  it("upload model refuses (exit 1, with both fixes) to change weights a live worker serves; nothing is written", async () => {
    await bucket("e2e-in-use");
    const from = weights("in-use", { "model.safetensors": 1000, "config.json": 100 });
    const args = ["upload", "model", "--project-name", "e2e-in-use", "--model", "m", "--from", from, "--region", "us-east-1"];
    expect((await run(args)).code).toBe(0);
    const ec2 = new EC2Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
    const tags = [{ Key: "SynktiCluster", Value: "e2e-in-use" }, { Key: "SynktiRole", Value: "worker" }, { Key: "SynktiModel", Value: "m" }];
    const out = await ec2.send(new RunInstancesCommand({ ImageId: "ami-12c6146b", InstanceType: "g5.xlarge", MinCount: 1, MaxCount: 1, TagSpecifications: [{ ResourceType: "instance", Tags: tags }] }));
    const id = out.Instances![0]!.InstanceId!;
    try {
      writeFileSync(path.join(from, "config.json"), "changed");
      const refused = await run([...args, "--output", "json"]);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain(`Refused: 1 file(s) of m would change in s3://e2e-in-use-models/ (config.json) while ${id} serves m.`);
      expect(refused.stderr).toContain(`Run: synkti upload model --project-name e2e-in-use --model <new-model-name> --from ${from} --region us-east-1   # or first: synkti down --project-name e2e-in-use --region us-east-1`);
      expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: "weights-in-use" } });
      expect((await s3.send(new HeadObjectCommand({ Bucket: "e2e-in-use-models", Key: "m/config.json" }))).ContentLength).toBe(100);
    } finally {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      ec2.destroy();
    }
  });

  it("Ctrl-C during an upload: exit 130, no multipart upload left, a re-run resumes", async () => {
    await bucket("e2e-sigint");
    const from = weights("interrupted", { "big.safetensors": 64 * MiB, "cut.safetensors": 48 * MiB });
    const args = ["upload", "model", "--project-name", "e2e-sigint", "--model", "m", "--from", from, "--concurrency", "1"];
    const child = spawn(BINARY, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let interrupted = false; // once: a second SIGINT kills at once, by design
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      // Interrupt as soon as the second file starts going up (files go largest first: the big one
      // is complete by then).
      if (!interrupted && /"key":"m\/cut.safetensors".*"msg":"uploading"/.test(stderr) && /"key":"m\/big.safetensors".*"msg":"uploaded"/.test(stderr)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/Re-running the same command resumes/);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: "e2e-sigint-models" }))).Uploads ?? []).toEqual([]);

    const again = await run([...args, "--output", "json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ uploaded: ["cut.safetensors"], skipped: ["big.safetensors"] });
  });
});
