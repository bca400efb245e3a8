import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../support/moto.js";
import { BINARY, emptySysfsRoot, runCli } from "../support/run-cli.js";

const PROJECT = "pf-e2e";
const MODEL = "tiny-model";
let moto: Moto;
let env: Record<string, string>;
let weightsDir: string;

interface Report {
  verdict: string;
  requirements: Array<{ id: string; status: string; observed: string; fix: string | null; needs?: string[] }>;
}

async function preflight(extraEnv: Record<string, string | undefined> = {}, args: string[] = []) {
  const result = await runCli(["preflight", "--project-name", PROJECT, "--model", MODEL, "--output", "json", ...args], {
    env: { ...env, ...extraEnv },
    timeoutMs: 60_000,
  });
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // never a stack trace
  return { ...result, report: JSON.parse(result.stdout) as Report };
}

const finding = (report: Report, id: string) => report.requirements.find((r) => r.id === id)!;

/** Runs a printed fix exactly as printed, filling in only the placeholders it names. */
function runFix(fix: string, needs: string[] = []): { status: number | null; output: string } {
  const values: Record<string, string> = { "weights-dir": weightsDir };
  let command = fix;
  for (const name of needs) {
    expect(values[name], `a value for <${name}>`).toBeDefined();
    command = command.replaceAll(`<${name}>`, values[name]!);
  }
  expect(command).not.toMatch(/<[a-z-]+>/);
  const result = spawnSync("bash", ["-c", command], {
    env: { ...process.env, ...env, SYNKTI_SYSFS_ROOT: emptySysfsRoot(), PATH: `${path.dirname(BINARY)}:${process.env.PATH}` },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

beforeAll(async () => {
  moto = await startMoto();
  env = awsEnvFor(moto.url);
  weightsDir = mkdtempSync(path.join(tmpdir(), "synkti-weights-"));
  writeFileSync(path.join(weightsDir, "config.json"), JSON.stringify({ model_type: "tiny" }));
  writeFileSync(path.join(weightsDir, "model.safetensors"), Buffer.alloc(300_000, 7));
});
afterAll(async () => {
  await moto?.stop();
});

describe("synkti preflight end to end", () => {
  it("on an empty account is UNSAFE; running each printed fix as printed makes it SAFE", async () => {
    let { code, report } = await preflight();
    expect(code).toBe(1);
    expect(report.verdict).toBe("UNSAFE");
    const missing = report.requirements.filter((r) => r.status === "fail").map((r) => r.id);
    expect(missing).toEqual(expect.arrayContaining(["bucket", "role", "security-group"]));
    expect(finding(report, "binary").status).toBe("blocked");

    const ran: string[] = [];
    for (let round = 0; round < 4 && report.verdict !== "SAFE"; round++) {
      const fixes = report.requirements.filter((r) => r.status === "fail" && r.fix);
      expect(fixes.length, JSON.stringify(report.requirements, null, 1)).toBeGreaterThan(0);
      for (const r of fixes) {
        if (ran.includes(r.fix!)) continue; // the same fix printed for several requirements runs once a round
        const { status, output } = runFix(r.fix!, r.needs);
        expect(status, `${r.fix}\n${output}`).toBe(0);
        expect(output).not.toMatch(/\n\s+at .+:\d+:\d+/);
        ran.push(r.fix!);
      }
      ({ code, report } = await preflight());
      ran.length = 0;
    }
    expect(report.verdict, JSON.stringify(report.requirements, null, 1)).toBe("SAFE");
    expect(code).toBe(0);
    // What moto cannot show stays a warning, never a pass.
    expect(finding(report, "permission-simulation")).toMatchObject({ status: "warn", observed: expect.stringMatching(/^not verified/) });
    expect(finding(report, "spot-quota")).toMatchObject({ status: "warn", observed: expect.stringMatching(/^not verified/) });
  }, 300_000);

  it("a tampered binary and a deleted weight file each give their own finding", async () => {
    const s3 = new S3Client(sdkConfigFor(moto.url));
    const bucket = `${PROJECT}-models`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "bin/synkti", Body: "#!/bin/sh\necho pwned\n" }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${MODEL}/model.safetensors` }));
    const { code, report } = await preflight();
    expect(code).toBe(1);
    expect(finding(report, "binary")).toMatchObject({ status: "fail", observed: expect.stringMatching(/tampered or truncated/) });
    expect(finding(report, "binary").fix).toMatch(/^synkti upload binary --project-name pf-e2e --region us-east-1 --file /);
    expect(finding(report, "weights")).toMatchObject({ status: "fail", observed: expect.stringMatching(/1 missing \(model\.safetensors\)/) });
    expect(finding(report, "weights").needs).toEqual(["weights-dir"]);
  }, 120_000);

  it("missing credentials and an unreachable endpoint each give their own clear finding", async () => {
    const noCreds = await preflight({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, HOME: mkdtempSync(path.join(tmpdir(), "home-")) });
    expect(noCreds.code).toBe(1);
    expect(finding(noCreds.report, "credentials")).toMatchObject({ status: "fail", observed: expect.stringMatching(/no AWS credentials/) });
    expect(finding(noCreds.report, "bucket").status).toBe("blocked");

    const unreachable = await preflight({ AWS_ENDPOINT_URL: "http://127.0.0.1:9" });
    expect(unreachable.code).toBe(3);
    expect(unreachable.report.verdict).toBe("UNKNOWN");
    expect(finding(unreachable.report, "credentials")).toMatchObject({ status: "unknown", observed: expect.stringMatching(/127\.0\.0\.1:9/) });
  }, 120_000);

  it("a missing permission (moto with IAM enforcement) fails the DryRun launch check", async () => {
    const iam = new IAMClient(sdkConfigFor(moto.url));
    await iam.send(new CreateUserCommand({ UserName: "no-launch" }));
    // Everything a preflight reads, but not ec2:RunInstances.
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["s3:*", "iam:Get*", "iam:List*", "iam:Simulate*", "sts:GetCallerIdentity"], Resource: "*" },
        { Effect: "Allow", Action: ["ec2:Describe*"], Resource: "*" },
      ],
    };
    await iam.send(new PutUserPolicyCommand({ UserName: "no-launch", PolicyName: "read-only", PolicyDocument: JSON.stringify(policy) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "no-launch" }))).AccessKey!;
    await moto.resetAuth(0);
    try {
      const { code, report } = await preflight({ AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey });
      expect(code).toBe(1);
      expect(finding(report, "permission-launch")).toMatchObject({
        status: "fail",
        observed: expect.stringMatching(/denied: ec2:RunInstances/),
      });
      expect(finding(report, "credentials").status).toBe("pass");
    } finally {
      await moto.resetAuth(Number.MAX_SAFE_INTEGER);
    }
  }, 120_000);
});
