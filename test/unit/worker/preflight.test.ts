import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHUNK_SIZE, chunkCount } from "../../../src/artifacts/chunks.js";
import { describe, expect, it } from "vitest";
import type { AwsClients } from "../../../src/aws/clients.js";
import type { ContextReport } from "../../../src/context/types.js";
import type { ImdsClient } from "../../../src/context/imds-client.js";
import { systemClock } from "../../../src/core/clock.js";
import { replacementPermission } from "../../../src/preflight/worker/permissions.js";
import { runPreflight } from "../../../src/preflight/engine.js";
import { binaryChecksum, sha256File } from "../../../src/preflight/worker/binary.js";
import { instanceRole, workerIdentity } from "../../../src/preflight/worker/identity.js";
import { workerContext, type WorkerPreflightOptions } from "../../../src/preflight/worker/index.js";
import { modelServerCommand, resolveExecutable } from "../../../src/preflight/worker/model-server.js";
import { portsFree } from "../../../src/preflight/worker/ports.js";
import { apiKeyReadable } from "../../../src/preflight/worker/api-key.js";
import { targetGroupPresent } from "../../../src/preflight/worker/target-group.js";
import { weightsPresent } from "../../../src/preflight/worker/weights.js";
import net from "node:net";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { FakeTransfer } from "../upload/fake-transfer.js";

/** A bucket holding `bin/synkti-<sha256>` as upload binary leaves it. */
function pinnedBinary(sha256: string): FakeTransfer {
  const transfer = new FakeTransfer();
  transfer.objects.set(`bin/synkti-${sha256}`, { body: Buffer.from("bytes"), metadata: { sha256 } });
  return transfer;
}

const workerVerdict: ContextReport = {
  role: "worker",
  reason: "i-0123456789abcdef0 in us-east-1a is tagged SynktiCluster=demo and SynktiRole=worker.",
  evidence: {
    instanceId: "i-0123456789abcdef0", region: "us-east-1", availabilityZone: "us-east-1a", instanceType: "g5.xlarge", project: "demo",
    dmi: { status: "unavailable", signals: [], detail: "", values: {} },
    imds: { status: "ok", endpoint: "http://127.0.0.1:1", detail: "" },
    identity: { status: "valid", detail: "" },
    tags: { status: "ok", detail: "" },
  },
};

function fakeImds(paths: Record<string, string | undefined>): ImdsClient {
  return { get: async (p: string) => paths[p] } as unknown as ImdsClient;
}

function ctx(overrides: Partial<WorkerPreflightOptions> = {}, imdsPaths: Record<string, string | undefined> = {}, transfer: FakeTransfer = new FakeTransfer()) {
  const options: WorkerPreflightOptions = {
    project: "demo", verdict: workerVerdict, model: "qwen", modelsDir: "/nonexistent", modelServerCommand: "vllm serve {model_dir}",
    self: { execPath: process.execPath, isSingleBinary: false }, expectedSha256: undefined, envPath: "", statusPort: 0, modelServerPort: 0, modelServerHost: undefined, ...overrides,
  };
  const imds = fakeImds({ "/latest/meta-data/local-ipv4": "127.0.0.7", "/latest/meta-data/ami-id": "ami-1", "/latest/meta-data/iam/security-credentials/": "demo-synkti-worker", ...imdsPaths });
  return workerContext({ clients: {} as AwsClients, imds, clock: systemClock, transfer }, options);
}

const check = async <O>(req: { observe(c: any, s: AbortSignal): Promise<O>; verdict(o: O, c: any): unknown }, c: ReturnType<typeof ctx>) => req.verdict(await req.observe(c, new AbortController().signal), c);

function weights(files: Record<string, number>, manifest?: Array<{ path: string; size: number }>) {
  const root = mkdtempSync(path.join(tmpdir(), "synkti-worker-weights-"));
  const dir = path.join(root, "qwen");
  mkdirSync(dir, { recursive: true });
  for (const [name, size] of Object.entries(files)) writeFileSync(path.join(dir, name), Buffer.alloc(size));
  const listed = manifest ?? Object.entries(files).map(([p, size]) => ({ path: p, size }));
  const zeros = "0".repeat(64);
  const entries = listed.map((f) => ({ ...f, sha256: zeros, chunks: Array.from({ length: chunkCount(f.size) }, () => zeros) }));
  writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ version: 2, chunkSize: CHUNK_SIZE, model: "qwen", createdAt: "2026-01-01T00:00:00Z", synktiVersion: "0.1.0", files: entries }));
  return root;
}

describe("worker preflight requirements", () => {
  it("identity: passes for a worker of this project, with where it lives", async () => {
    expect(await check(workerIdentity, ctx())).toEqual({ status: "pass", observed: expect.stringContaining("i-0123456789abcdef0 (g5.xlarge) in us-east-1a, local-ipv4 127.0.0.7") });
  });

  it("identity: fails with the context's own fix when this is no worker of the project", async () => {
    const verdict: ContextReport = { ...workerVerdict, role: "deployer", reason: "On EC2, but not a worker of demo.", fix: "aws ec2 create-tags --resources i-0123456789abcdef0 ..." };
    expect(await check(workerIdentity, ctx({ verdict }))).toMatchObject({ status: "fail", fix: { command: "aws ec2 create-tags --resources i-0123456789abcdef0 ..." } });
    expect(await check(workerIdentity, ctx({ verdict: { ...workerVerdict, evidence: { ...workerVerdict.evidence, project: "other" } } }))).toMatchObject({ status: "fail", fix: { command: "synkti context --project-name demo" } });
  });

  it.each([
    ["demo-synkti-worker", "pass", undefined],
    [undefined, "fail", /associate-iam-instance-profile --instance-id i-0123456789abcdef0 --iam-instance-profile Name=demo-synkti-worker --region us-east-1/],
    ["someone-else", "fail", /replace-iam-instance-profile-association --association-id <association-id>/],
  ])("role %s -> %s", async (role, status, fix) => {
    const finding = (await check(instanceRole, ctx({}, { "/latest/meta-data/iam/security-credentials/": role }))) as { status: string; fix?: { command: string } };
    expect(finding.status).toBe(status);
    if (fix) expect(finding.fix?.command).toMatch(fix);
  });

  it("binary: skipped with the reason, pass on a match, fail with the upload command on a mismatch", async () => {
    expect(await check(binaryChecksum, ctx())).toEqual({ status: "skipped", observed: expect.stringContaining("SYNKTI_EXPECTED_SHA256 is not set") });
    expect(await check(binaryChecksum, ctx({ expectedSha256: "a".repeat(64) }, {}, pinnedBinary("a".repeat(64))))).toEqual({ status: "skipped", observed: expect.stringContaining("not the single binary") });
    const file = path.join(mkdtempSync(path.join(tmpdir(), "synkti-bin-")), "synkti");
    writeFileSync(file, "pretend binary");
    const sha = await sha256File(file);
    const self = { execPath: file, isSingleBinary: true };
    expect(await check(binaryChecksum, ctx({ self, expectedSha256: sha.toUpperCase() }, {}, pinnedBinary(sha)))).toMatchObject({ status: "pass", observed: expect.stringContaining(`pinned as bin/synkti-${sha}`) });
    expect(await check(binaryChecksum, ctx({ self, expectedSha256: "b".repeat(64) }, {}, pinnedBinary("b".repeat(64))))).toMatchObject({ status: "fail", fix: { command: "synkti upload binary --project-name demo" } });
  });

  it("binary: warns when bin/synkti-<sha256> left the bucket: this worker serves, its replacement would not boot", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "synkti-bin-")), "synkti");
    writeFileSync(file, "pretend binary");
    const sha = await sha256File(file);
    const finding = await check(binaryChecksum, ctx({ self: { execPath: file, isSingleBinary: true }, expectedSha256: sha }));
    expect(finding).toEqual({
      status: "warn",
      observed: `s3://demo-models/bin/synkti-${sha} does not exist: a replacement launched from this worker's user-data would not boot (it needs the build with sha256 ${sha})`,
      fix: { command: "synkti upload binary --project-name demo --file <binary>", needs: ["binary"] },
    });
  });

  it("weights: the manifest on disk must be the one launched with; its pinned copy and files must still be in S3", async () => {
    const root = weights({ "model.safetensors": 1024 });
    const text = readFileSync(path.join(root, "qwen", "manifest.json"));
    const pin = createHash("sha256").update(text).digest("hex");
    const other = await check(weightsPresent, ctx({ modelsDir: root, expectedManifestSha256: "c".repeat(64) }));
    expect(other).toMatchObject({ status: "fail", observed: expect.stringContaining("has a manifest.json that is not the one this worker was launched with") });

    const bucket = new FakeTransfer();
    expect(await check(weightsPresent, ctx({ modelsDir: root, expectedManifestSha256: pin }, {}, bucket))).toMatchObject({
      status: "warn",
      observed: `qwen/manifest-${pin}.json: s3://demo-models/qwen/manifest-${pin}.json does not exist: a replacement launched from this worker's user-data would refuse these weights`,
    });
    bucket.objects.set(`qwen/manifest-${pin}.json`, { body: text, metadata: {} });
    bucket.objects.set("qwen/model.safetensors", { body: Buffer.alloc(1024), metadata: { sha256: "f".repeat(64) } }); // overwritten since
    expect(await check(weightsPresent, ctx({ modelsDir: root, expectedManifestSha256: pin }, {}, bucket))).toMatchObject({ status: "warn", observed: expect.stringContaining("model.safetensors: sha256 in S3 differs from the manifest") });
    bucket.objects.set("qwen/model.safetensors", { body: Buffer.alloc(1024), metadata: { sha256: "0".repeat(64) } });
    expect(await check(weightsPresent, ctx({ modelsDir: root, expectedManifestSha256: pin }, {}, bucket))).toMatchObject({ status: "pass" });
  });

  it("weights: every manifest file present with its size", async () => {
    const ok = weights({ "model.safetensors": 1024, "config.json": 10 });
    expect(await check(weightsPresent, ctx({ modelsDir: ok }))).toMatchObject({ status: "pass", observed: expect.stringMatching(/2 files.*SHA-256 of every chunk verified by the agent's fetch/) });
    const short = weights({ "model.safetensors": 1000 }, [{ path: "model.safetensors", size: 1024 }, { path: "tokenizer.json", size: 5 }]);
    const finding = (await check(weightsPresent, ctx({ modelsDir: short }))) as { status: string; observed: string; fix: { command: string; needs: string[] } };
    expect(finding.status).toBe("fail");
    expect(finding.observed).toMatch(/missing tokenizer\.json; wrong size model\.safetensors \(1000 bytes, manifest says 1024\)/);
    // A path leaving the folder refuses the whole manifest, naming the entry.
    const escape = weights({ "model.safetensors": 10 }, [{ path: "model.safetensors", size: 10 }, { path: "../escape", size: 1 }]);
    expect(await check(weightsPresent, ctx({ modelsDir: escape }))).toMatchObject({ status: "fail", observed: expect.stringContaining("path '../escape' has a '..' segment") });
    expect(finding.fix).toEqual({ command: "synkti upload model --project-name demo --model qwen --from <weights-dir>", needs: ["weights-dir"] });
  });

  it("weights: no manifest, or no model at all", async () => {
    expect(await check(weightsPresent, ctx({ modelsDir: mkdtempSync(path.join(tmpdir(), "synkti-empty-")) }))).toMatchObject({ status: "fail", observed: expect.stringContaining("has no manifest.json") });
    expect(await check(weightsPresent, ctx({ model: undefined }))).toMatchObject({ status: "fail", fix: { command: "synkti --project-name demo --model <model>", needs: ["model"] } });
  });

  it("model server command: its executable on PATH or as an absolute path", async () => {
    const bin = mkdtempSync(path.join(tmpdir(), "synkti-path-"));
    writeFileSync(path.join(bin, "vllm"), "#!/bin/sh\n");
    chmodSync(path.join(bin, "vllm"), 0o755);
    writeFileSync(path.join(bin, "notexec"), "");
    expect(resolveExecutable("vllm", `/nonexistent:${bin}`)).toBe(path.join(bin, "vllm"));
    expect(await check(modelServerCommand, ctx({ envPath: bin }))).toMatchObject({ status: "pass", observed: `vllm is ${path.join(bin, "vllm")}` });
    expect(await check(modelServerCommand, ctx({ envPath: "/nonexistent" }))).toMatchObject({ status: "fail", observed: expect.stringContaining("vllm is not on PATH"), fix: { needs: ["command"] } });
    expect(await check(modelServerCommand, ctx({ modelServerCommand: `${process.execPath} serve {model_dir}` }))).toMatchObject({ status: "pass" });
    expect(await check(modelServerCommand, ctx({ modelServerCommand: `${bin}/notexec serve` }))).toMatchObject({ status: "fail", observed: expect.stringContaining("is not an executable file") });
    expect(await check(modelServerCommand, ctx({ modelServerCommand: "vllm serve {model}" }))).toMatchObject({ status: "fail", observed: expect.stringContaining("{model}") });
  });

  it("ports: free ones pass, a taken one fails naming the port", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.7", resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      expect(await check(portsFree, ctx({ statusPort: 0, modelServerPort: 0 }))).toMatchObject({ status: "pass" });
      const finding = await check(portsFree, ctx({ statusPort: port, modelServerPort: 0 }));
      expect(finding).toMatchObject({ status: "fail", observed: `status endpoint port ${port}: EADDRINUSE`, fix: { command: `ss -ltnp 'sport = :${port}'` } });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("api key: readable passes without ever showing the value; missing or denied is UNSAFE with the infra up fix", async () => {
    const withKey = (apiKey: () => Promise<string | undefined>) => ({ ...ctx(), apiKey });
    const passed = await check(apiKeyReadable, withKey(async () => "s3cr3t-value-0123456789"));
    expect(passed).toMatchObject({ status: "pass", observed: "/synkti/demo/api-key readable (the model server gets it as VLLM_API_KEY)" });
    expect(JSON.stringify(passed)).not.toContain("s3cr3t-value");
    expect(await check(apiKeyReadable, withKey(async () => undefined))).toMatchObject({ status: "fail", observed: expect.stringContaining("would serve without authentication"), fix: { command: "synkti infra up --project-name demo" } });
    const denied = Object.assign(new Error("User is not authorized to perform ssm:GetParameter"), { name: "AccessDeniedException" });
    expect(await check(apiKeyReadable, withKey(async () => Promise.reject(denied)))).toMatchObject({ status: "fail", observed: expect.stringContaining("AccessDeniedException"), fix: { command: "synkti infra up --project-name demo" } });
    // Could not reach SSM: not an answer, the engine calls it unknown (asked again at boot).
    const unreachable = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    await expect(apiKeyReadable.observe(withKey(async () => Promise.reject(unreachable)), new AbortController().signal)).rejects.toThrow("ECONNREFUSED");
  });

  it("target group: present passes with its port; missing is UNSAFE with the infra up fix", async () => {
    const withGroup = (group: { arn: string; name: string; port: number } | undefined) => ({ ...ctx(), targetGroup: async () => group });
    expect(await check(targetGroupPresent, withGroup({ arn: "arn:tg", name: "demo-synkti", port: 8000 }))).toMatchObject({ status: "pass", observed: "demo-synkti (traffic port 8000)" });
    expect(await check(targetGroupPresent, withGroup(undefined))).toMatchObject({ status: "fail", fix: { command: "synkti infra up --project-name demo" } });
  });

  it("the whole preflight is UNSAFE when one thing is missing, and blocks the permission check on a bad identity", async () => {
    const verdict: ContextReport = { ...workerVerdict, role: "deployer", reason: "Not an EC2 instance." };
    const c = ctx({ verdict });
    // The real permission requirement: its dependencies are the ones that block it here.
    expect(replacementPermission.dependsOn).toEqual(["worker-identity", "instance-role"]);
    const report = await runPreflight([workerIdentity, instanceRole, { ...modelServerCommand }, replacementPermission], c, { clock: systemClock });
    expect(report.verdict).toBe("UNSAFE");
    expect(report.requirements.find((r) => r.id === "permission-replace")).toMatchObject({ status: "blocked", blockedBy: expect.arrayContaining(["worker-identity"]) });
  });
});
