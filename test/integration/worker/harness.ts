/**
 * An in-process worker agent in the local cloud: moto for EC2 (the agent's own instance and its
 * peers are real moto instances), an IMDS emulator per agent giving it a private 127.x.y.z
 * local-ipv4, a weights folder with a manifest, and the vLLM stand-in as its model server through
 * the command template. The agent runs with the production code path (`runWorker`), real HTTP and
 * processes, and tightened timings so a test takes seconds.
 */
import type { RunAsDeps } from "../../../src/worker/model-server/run-as.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { CreateSecurityGroupCommand, DescribeVpcsCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createAwsClients } from "../../../src/aws/clients.js";
import { createEc2Peers } from "../../../src/aws/ec2-peers.js";
import { detectContext } from "../../../src/context/detect.js";
import { ImdsClient } from "../../../src/context/imds-client.js";
import { systemClock } from "../../../src/core/clock.js";
import { createLogger, silentLogger, type Logger } from "../../../src/core/log.js";
import { HEALTH_PATH } from "../../../src/infra/load-balancer-settings.js";
import { projectNames, TAG_CLUSTER } from "../../../src/infra/names.js";
import { MODEL_SERVER_PORT, STATUS_PORT } from "../../../src/infra/ports.js";
import { runWorker, workerOptionsFromEnv, type WorkerOptions, type WorkerOutcome } from "../../../src/worker/index.js";
import type { StatusDocument } from "../../../src/cluster/status-document.js";
import { freePort } from "../../support/free-port.js";
import { ImdsEmulator, type ImdsEmulatorOptions } from "../../support/imds-emulator.js";
import { sdkConfigFor } from "../../support/moto.js";
import { vllmStandinCommandTemplate } from "../../support/vllm-standin.js";

export const MODEL = "tiny-model";

/** A random 127.a.b.c (never 127.0.0.x, where the rest of the machine listens). */
export function randomLoopback(): string {
  const r = (n: number) => Math.floor(Math.random() * n);
  return `127.${1 + r(254)}.${r(256)}.${2 + r(250)}`;
}

export function ec2For(motoUrl: string): EC2Client {
  return new EC2Client({ ...sdkConfigFor(motoUrl), maxAttempts: 1 });
}

export interface WorkerInfra {
  apiKey: string;
  targetGroupArn: string;
}

/**
 * The project's worker role, instance profile, tagged security group and bucket, its target group and
 * API key (what `synkti infra up` makes), so the agent's preflight passes and its trace has somewhere
 * to go. `apiKey: false`: no key parameter (an infra from before the load balancer).
 */
export async function createWorkerInfra(motoUrl: string, project: string, options: { apiKey?: boolean } = {}): Promise<WorkerInfra> {
  const iam = new IAMClient({ ...sdkConfigFor(motoUrl), maxAttempts: 1 });
  const ec2 = ec2For(motoUrl);
  const s3 = new S3Client({ ...sdkConfigFor(motoUrl), maxAttempts: 1 });
  const elb = new ElasticLoadBalancingV2Client({ ...sdkConfigFor(motoUrl), maxAttempts: 1 });
  const ssm = new SSMClient({ ...sdkConfigFor(motoUrl), maxAttempts: 1 });
  const names = projectNames(project);
  const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] };
  try {
    await iam.send(new CreateRoleCommand({ RoleName: names.role, AssumeRolePolicyDocument: JSON.stringify(trust) }));
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: names.instanceProfile }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: names.instanceProfile, RoleName: names.role }));
    await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: names.securityGroup,
        Description: "synkti workers (test)",
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: TAG_CLUSTER, Value: project }] }],
      }),
    );
    await s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
    const vpc = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }));
    const group = await elb.send(
      new CreateTargetGroupCommand({
        Name: names.targetGroup,
        Protocol: "HTTP",
        Port: MODEL_SERVER_PORT,
        TargetType: "instance",
        VpcId: vpc.Vpcs![0]!.VpcId!,
        HealthCheckPath: HEALTH_PATH,
        HealthCheckPort: String(STATUS_PORT),
      }),
    );
    const apiKey = `key-${project}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    if (options.apiKey !== false) await ssm.send(new PutParameterCommand({ Name: names.apiKeyParameter, Value: apiKey, Type: "SecureString" }));
    return { apiKey, targetGroupArn: group.TargetGroups![0]!.TargetGroupArn! };
  } finally {
    iam.destroy();
    ec2.destroy();
    s3.destroy();
    elb.destroy();
    ssm.destroy();
  }
}

/** `count` running instances tagged as the project's workers (moto: running at once). */
export async function launchMembers(ec2: EC2Client, project: string, count: number): Promise<string[]> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      InstanceType: "g5.xlarge",
      MinCount: count,
      MaxCount: count,
      Placement: { AvailabilityZone: "us-east-1a" },
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiCluster", Value: project }, { Key: "SynktiRole", Value: "worker" }] }],
    }),
  );
  return (out.Instances ?? []).map((i) => i.InstanceId!);
}

export function weightsFolder(): string {
  const root = mkdtempSync(path.join(tmpdir(), "synkti-worker-it-"));
  const dir = path.join(root, MODEL);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "model.safetensors"), Buffer.alloc(4096, 1));
  writeFileSync(path.join(dir, "config.json"), "{}");
  const files = [
    { path: "config.json", size: 2, sha256: "0".repeat(64) },
    { path: "model.safetensors", size: 4096, sha256: "0".repeat(64) },
  ];
  writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ model: MODEL, files, createdAt: "2026-01-01T00:00:00Z", synktiVersion: "0.1.0" }));
  return root;
}

/** Timings for tests: seconds, not minutes. */
export function testOptions(project: string, modelsDir: string, overrides: Partial<WorkerOptions> = {}): WorkerOptions {
  const base = workerOptionsFromEnv({ project, model: MODEL, modelServerCommand: vllmStandinCommandTemplate() }, { SYNKTI_MODELS_DIR: modelsDir });
  return {
    ...base,
    statusPort: 0,
    dryRun: true,
    env: { ...process.env, SYNKTI_STANDIN_STARTUP_DELAY_MS: "300" },
    supervisor: {
      ...base.supervisor,
      readyTimeoutMs: 30_000,
      startPollMs: 100,
      healthIntervalMs: 200,
      unhealthyAfterFailures: 2,
      restartUnhealthyAfterMs: 1000,
      stopGraceMs: 2000,
      policy: { maxCrashes: 5, windowMs: 60_000, initialBackoffMs: 200, maxBackoffMs: 1000, maxNeverReady: 5 },
    },
    // A generous budget so listings come every 0.5 s here (production: 0.5 calls/s for the cluster).
    discovery: { budget: { clusterCallsPerSecond: 20, minIntervalMs: 500, jitter: 0.2, maxIntervalMs: 5000 }, peerRoundMs: 300, fanout: 8, askTimeoutMs: 500 },
    failedLingerMs: 0,
    tagRetryMs: 500,
    shutdownFlushMs: 3000,
    ...overrides,
  };
}

export interface RunningAgent {
  instanceId: string;
  host: string;
  /** Where its model server listens (http://host:port). */
  modelServerUrl: string;
  imds: ImdsEmulator;
  endpoint: Promise<string>;
  outcome: Promise<WorkerOutcome>;
  status(): Promise<StatusDocument>;
  healthz(): Promise<number>;
  stop(): Promise<WorkerOutcome>;
  /** Every CreateTags on itself that landed, in order (what a worker costs in EC2 calls). */
  tagWrites: Array<Record<string, string>>;
}

/** Starts an agent for `instanceId` (a moto instance of `project`). */
export async function startAgent(project: string, instanceId: string, options: WorkerOptions, extra: { log?: Logger; iamRole?: string | null; imds?: Partial<ImdsEmulatorOptions>; random?: () => number; users?: RunAsDeps } = {}): Promise<RunningAgent> {
  const host = randomLoopback();
  const imds = await ImdsEmulator.start({
    instanceId,
    privateIp: host,
    availabilityZone: "us-east-1a",
    tags: { SynktiCluster: project, SynktiRole: "worker" },
    iamRole: extra.iamRole === undefined ? projectNames(project).role : extra.iamRole,
    ...extra.imds,
  });
  const sysfsRoot = mkdtempSync(path.join(tmpdir(), "synkti-worker-it-sys-"));
  const verdict = await detectContext({ sysfsRoot, projectName: project, imds: { endpoint: imds.url, disabled: false, source: "AWS_EC2_METADATA_SERVICE_ENDPOINT" } });
  rmSync(sysfsRoot, { recursive: true, force: true });
  const modelServerPort = await freePort(host);
  const controller = new AbortController();
  let resolveEndpoint!: (endpoint: string) => void;
  const endpoint = new Promise<string>((resolve) => (resolveEndpoint = resolve));
  const log = extra.log ?? (process.env.SYNKTI_TEST_LOGS ? createLogger({ level: "debug" }) : silentLogger);
  const clients = createAwsClients({ role: "worker", region: "us-east-1", maxAttempts: 1 });
  const peers = createEc2Peers(clients);
  const tagWrites: Array<Record<string, string>> = [];
  const outcome = runWorker(
    {
      clients,
      // The real EC2 calls, counted: a wrapper around the production client, not a mock.
      ec2: { ...peers, tagSelf: async (id, tags, signal) => { await peers.tagSelf(id, tags, signal); tagWrites.push(tags); } },
      imds: new ImdsClient({ endpoint: imds.url }),
      clock: systemClock,
      log,
      ...(extra.random ? { random: extra.random } : {}),
      ...(extra.users ? { users: extra.users } : {}),
      spawn,
      self: { execPath: process.execPath, isSingleBinary: false },
      envPath: process.env.PATH ?? "",
    },
    { ...options, modelServerPort },
    { verdict, signal: controller.signal, onStarted: ({ endpoint }) => resolveEndpoint(endpoint) },
  );
  void outcome.then(() => resolveEndpoint(""));
  const get = async (p: string) => fetch(`http://${await endpoint}${p}`, { signal: AbortSignal.timeout(2000) });
  return {
    instanceId,
    host,
    modelServerUrl: `http://${host}:${modelServerPort}`,
    imds,
    endpoint,
    outcome,
    status: async () => (await (await get("/status")).json()) as StatusDocument,
    healthz: async () => (await get("/healthz")).status,
    tagWrites,
    async stop() {
      controller.abort();
      const result = await outcome;
      await imds.close();
      return result;
    },
  };
}

export { until } from "../../support/until.js";
