/**
 * Shared set-up for the deployer's integration tests: one moto per test file behind the fault
 * proxy, the real client factory pointed at the proxy through AWS_ENDPOINT_URL, and a project made
 * ready to launch: `infraUp` (the permanent resources, as `synkti infra up` makes them), then the
 * binary and a model's weights in the bucket the way the uploads leave them (sha256 metadata,
 * bin/synkti.sha256, <model>/manifest.json, and the pinned copies bin/synkti-<sha256> and
 * <model>/manifest-<sha256>.json).
 *
 * Chain: SDK -> fault proxy -> moto. moto is plain HTTP, so infra up leaves the TLS-only bucket
 * policy out (it would deny every request, as AWS would) and preflight warns about it.
 */
import { createHash } from "node:crypto";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { createAwsClients, type AwsClients } from "../../../src/aws/clients.js";
import { systemClock } from "../../../src/core/clock.js";
import { ChunkHasher } from "../../../src/artifacts/chunks.js";
import { buildManifest, renderManifest } from "../../../src/artifacts/manifest.js";
import { silentLogger } from "../../../src/core/log.js";
import { fleetDeps } from "../../../src/deployer/fleet/deps.js";
import { infraUp } from "../../../src/infra/up.js";
import { projectNames, type ProjectNames } from "../../../src/infra/names.js";
import { startFaultProxy, type FaultProxy } from "../../support/fault-proxy.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";

export interface Harness {
  moto: Moto;
  proxy: FaultProxy;
  /** What a child process (the built binary) needs to use the same chain. */
  env: Record<string, string>;
  clients: AwsClients;
  fleet: ReturnType<typeof fleetDeps>;
  /** Raw clients for the test's own arranging and checking (straight to moto, no faults). */
  s3: S3Client;
  ec2: EC2Client;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const moto = await startMoto();
  const proxy = await startFaultProxy({ target: moto.url });
  const env = awsEnvFor(proxy.url);
  Object.assign(process.env, env);
  // Retries as in production: a keep-alive socket the proxy closed while idle must not fail a test.
  const clients = createAwsClients({ role: "deployer", maxAttempts: 3 });
  const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  const ec2 = new EC2Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  return {
    moto,
    proxy,
    env,
    clients,
    fleet: fleetDeps(clients, systemClock, silentLogger),
    s3,
    ec2,
    async close() {
      s3.destroy();
      ec2.destroy();
      await proxy.close();
      await moto.stop();
    },
  };
}

/** Stands in for bin/synkti when a test boots user-data: says how it was started. */
export const BINARY_BYTES = Buffer.from('#!/bin/sh\necho synkti-stand-in "$@" "models=$SYNKTI_MODELS_DIR" "sha256=$SYNKTI_EXPECTED_SHA256"\n');
export const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** Permanent resources, binary and one model's weights: what a SAFE preflight would have found. */
export async function readyProject(h: Pick<Harness, "clients" | "s3">, project: string, options: { model?: string; binary?: Uint8Array; files?: Record<string, string> } = {}): Promise<ProjectNames> {
  const names = projectNames(project);
  await infraUp({ clients: h.clients, log: silentLogger, clock: systemClock }, names);
  const binary = options.binary ?? BINARY_BYTES;
  const digest = sha256(binary);
  const put = (Key: string, Body: Uint8Array | string, Metadata?: Record<string, string>) =>
    h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key, Body, ...(Metadata ? { Metadata } : {}) }));
  await put(names.binaryKey, binary, { sha256: digest, version: "0.1.0" });
  await put(names.pinnedBinaryKey(digest), binary, { sha256: digest, version: "0.1.0" });
  await put(names.binaryChecksumKey, `${digest}  synkti\n`);
  const model = options.model ?? "tiny-model";
  const files = options.files ?? { "config.json": '{"layers":2}\n', "weights/part-0.safetensors": "0123456789" };
  for (const [rel, body] of Object.entries(files)) await put(`${model}/${rel}`, body, { sha256: sha256(body) });
  const manifest = buildManifest(model, Object.entries(files).map(([p, body]) => ({ path: p, ...new ChunkHasher().update(Buffer.from(body)).digest() })), new Date(0), "0.1.0");
  const manifestText = renderManifest(manifest);
  await put(names.manifestKey(model), manifestText);
  await put(names.pinnedManifestKey(model, sha256(manifestText)), manifestText);
  return names;
}

/** An instance carrying a worker's tags (`SynktiCluster`, `SynktiRole` and the rest), with nothing behind it. */
export async function taggedInstance(ec2: EC2Client, zone: string, tags: Record<string, string>): Promise<string> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12345678",
      InstanceType: "g5.xlarge",
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: zone },
      TagSpecifications: [{ ResourceType: "instance", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}
