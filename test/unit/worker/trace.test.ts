import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { projectNames } from "../../../src/infra/names.js";
import { policyVars, workerPolicy } from "../../../src/infra/policies.js";
import type { PreflightReport } from "../../../src/preflight/types.js";
import { WorkerReporter } from "../../../src/worker/state/reporter.js";
import { BOOT_LOG_TAIL_BYTES, readLogTail } from "../../../src/worker/trace/boot-log.js";
import { redactSecrets } from "../../../src/core/redact.js";
import { preflightReason } from "../../../src/worker/trace/failure-record.js";
import { FakeClock } from "../../support/fake-clock.js";
import { until } from "../../support/until.js";

const dir = mkdtempSync(path.join(tmpdir(), "synkti-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("boot log tail", () => {
  it("is the whole file when short, and the last 64 KiB from a line start when long", async () => {
    const file = path.join(dir, "boot.log");
    writeFileSync(file, "synkti-boot: downloading\n");
    expect(await readLogTail(file)).toBe("synkti-boot: downloading\n");

    const line = (n: number) => `line ${String(n).padStart(6, "0")} ${"é".repeat(40)}\n`; // multi-byte: no cut inside a character
    writeFileSync(file, Array.from({ length: 2000 }, (_, n) => line(n)).join(""));
    const tail = (await readLogTail(file))!;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(BOOT_LOG_TAIL_BYTES);
    expect(Buffer.byteLength(tail)).toBeGreaterThan(BOOT_LOG_TAIL_BYTES - 200);
    expect(tail.startsWith("line ")).toBe(true);
    expect(tail.endsWith(line(1999))).toBe(true);
    expect(tail).not.toContain("\uFFFD");
  });

  it("is undefined for a file that is not there (the agent goes on)", async () => {
    expect(await readLogTail(path.join(dir, "missing.log"))).toBeUndefined();
  });
});

describe("secrets never leave the instance in a log", () => {
  const samples: Array<[string, string]> = [
    ["vllm serve /models/m --host 10.0.0.1 --api-key sk-abc123 --port 8000", "vllm serve /models/m --host 10.0.0.1 --api-key <redacted> --port 8000"],
    ["--hf-token=hf_XYZ next", "--hf-token=<redacted> next"],
    ["INFO non-default args: {'model': '/models/m', 'api_key': ['sk-abc123'], 'port': 8000}", "INFO non-default args: {'model': '/models/m', 'api_key': ['<redacted>'], 'port': 8000}"],
    ['{"level":30,"msg":"x","apiKey":"sk-abc123","n":1}', '{"level":30,"msg":"x","apiKey":"<redacted>","n":1}'],
    ['{"msg":"args {\\"api_key\\": \\"sk-abc123\\"}"}', '{"msg":"args {\\"api_key\\": \\"<redacted>\\"}"}'],
    ["AWS_SECRET_ACCESS_KEY=abc/def+ghi", "AWS_SECRET_ACCESS_KEY=<redacted>"],
    ["Password: hunter2", "Password: <redacted>"],
    ["max_num_batched_tokens=8192 prompt throughput: 3.0 tokens/s", "max_num_batched_tokens=8192 prompt throughput: 3.0 tokens/s"],
    ["synkti-boot: binary verified (0a1b)", "synkti-boot: binary verified (0a1b)"],
  ];

  it.each(samples)("%s", (line, expected) => {
    expect(redactSecrets(line)).toBe(expected);
  });

  it("the project's API key itself is redacted wherever it appears (no flag or name around it)", async () => {
    const key = "Zx9_q-3kLmNoPqRsTuVwXyZ0123456789abcdefghi";
    expect(redactSecrets(`env: VLLM_KEY_COPY ${key} and again(${key})`, [key])).toBe("env: VLLM_KEY_COPY <redacted> and again(<redacted>)");
    expect(redactSecrets(`plain ${key}`)).toBe(`plain ${key}`); // without it, nothing knew the value
    const dir = mkdtempSync(path.join(tmpdir(), "synkti-key-log-"));
    const file = path.join(dir, "boot.log");
    writeFileSync(file, `model server printed ${key}\n`);
    expect(await readLogTail(file, undefined, new Set([key]))).toBe("model server printed <redacted>\n");
    rmSync(dir, { recursive: true, force: true });
  });

  it("user-data's redact() applies the same rules to the tail it uploads", () => {
    const template = readFileSync(path.resolve(import.meta.dirname, "../../../scripts/user-data.sh.tpl"), "utf8");
    const fn = /^redact\(\) \{\n[\s\S]*?\n\}$/m.exec(template)?.[0];
    expect(fn).toBeDefined();
    const input = samples.map(([line]) => line).join("\n");
    const out = spawnSync("bash", ["-c", `${fn}\nredact`], { input, encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(out.stdout.trimEnd().split("\n")).toEqual(samples.map(([, expected]) => expected));
  });
});

describe("the boot log in S3 follows every state change", () => {
  it("uploads the current tail to checkpoints/logs/<id>.log on each change, the latest content winning", async () => {
    const file = path.join(dir, "agent.log");
    writeFileSync(file, "synkti-boot: binary verified\n");
    const clock = new FakeClock();
    const objects = new Map<string, string>();
    let puts = 0;
    const store = {
      async put(key: string, body: string) {
        puts += 1;
        objects.set(key, body);
      },
    };
    const ec2 = { tagSelf: async () => {} };
    const reporter = new WorkerReporter({ ec2, store, clock, log: silentLogger }, { instanceId: "i-9", names: projectNames("demo"), bootLog: file, retryMs: 30_000 });

    const key = "checkpoints/logs/i-9.log";
    reporter.state("booting");
    await until("the first log upload", async () => objects.get(key) === "synkti-boot: binary verified\n");

    appendFileSync(file, '{"msg":"model server healthy"}\n');
    reporter.state("serving");
    await until("the log after serving", async () => objects.get(key)?.includes("model server healthy"));
    expect(puts).toBe(2);

    reporter.state("serving"); // no change: no upload
    await clock.advance(60_000);
    expect(puts).toBe(2);
  });
});

describe("failure reason of a refused preflight", () => {
  it("names each failed requirement with what was observed, on one line", () => {
    const report: PreflightReport = {
      verdict: "UNSAFE",
      requirements: [
        { id: "identity", title: "", status: "pass", observed: "tagged", fix: null, blockedBy: null, durationMs: 1 },
        { id: "instance-role", title: "", status: "fail", observed: "no instance profile", fix: "synkti infra up", blockedBy: null, durationMs: 1 },
        { id: "weights", title: "", status: "fail", observed: "model.safetensors is missing", fix: null, blockedBy: null, durationMs: 1 },
      ],
    };
    expect(preflightReason(report)).toBe("worker preflight UNSAFE: instance-role: no instance profile; weights: model.safetensors is missing");
  });
});

describe("the worker's role may leave its trace", () => {
  it("allows PutObject (and the HeadObject user-data asks) on both log keys, and CreateTags on its own instance", () => {
    const names = projectNames("demo");
    const policy = workerPolicy(policyVars(names, { accountId: "123456789012", partition: "aws", region: "us-east-1" }));
    const allows = (action: string, arn: string) =>
      policy.Statement.some((s) => s.Effect === "Allow" && [s.Action].flat().includes(action) && [s.Resource].flat().some((r) => r !== undefined && new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(arn)));
    for (const key of [names.failureRecordKey("i-0123456789abcdef0"), names.bootLogKey("i-0123456789abcdef0")]) {
      expect(allows("s3:PutObject", `arn:aws:s3:::${names.bucket}/${key}`), key).toBe(true);
      expect(allows("s3:GetObject", `arn:aws:s3:::${names.bucket}/${key}`), key).toBe(true);
    }
    expect(allows("ec2:CreateTags", "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0")).toBe(true);
  });
});
