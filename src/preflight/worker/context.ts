import type { AwsClients } from "../../aws/clients.js";
import type { S3Transfer } from "../../aws/s3-transfer.js";
import type { ContextReport } from "../../context/types.js";
import type { ImdsClient } from "../../context/imds-client.js";
import type { Clock } from "../../core/clock.js";
import type { TargetGroupRef } from "../../aws/elbv2-targets.js";
import type { ProjectNames } from "../../infra/names.js";

/** Facts about this instance the agent needs after the preflight too (bind address, own AMI). */
export interface InstanceFacts {
  instanceId: string;
  region: string;
  availabilityZone: string;
  instanceType: string;
  localIpv4: string;
  imageId: string;
}

/** What a worker-side requirement can see. */
export interface WorkerContext {
  names: ProjectNames;
  /** `synkti context`'s decision for this machine, made before the agent was started. */
  verdict: ContextReport;
  imds: ImdsClient;
  clients: AwsClients;
  clock: Clock;
  model: string | undefined;
  /** Where user-data synced the weights: SYNKTI_MODELS_DIR, default /models. */
  modelsDir: string;
  /** The model server command template (before filling). */
  modelServerCommand: string;
  /** This executable, and whether it is the single binary (not `node` running a development build). */
  self: { execPath: string; isSingleBinary: boolean };
  /** SYNKTI_EXPECTED_SHA256, set by user-data from the checksum the deployer launched with. */
  expectedSha256: string | undefined;
  /** SYNKTI_EXPECTED_MANIFEST_SHA256: the manifest user-data downloaded (and a replacement would). */
  expectedManifestSha256?: string | undefined;
  /** The project bucket's objects, for what a replacement launched from this worker's user-data downloads. */
  objects(): Promise<S3Transfer>;
  /** PATH the model server command is resolved on. */
  envPath: string;
  /** Ports the agent will listen on (0: any) and the model server's host (default local-ipv4). */
  ports: { status: number; modelServer: number; modelServerHost: string | undefined };
  /** Shared observation: several requirements need the instance's facts; IMDS is asked once. */
  instance(): Promise<InstanceFacts>;
  /**
   * The project's API key (SSM SecureString, decrypted), read once: the requirement checks it, the
   * agent hands it to the model server. Never part of an observation's text. Undefined: no parameter.
   */
  apiKey(): Promise<string | undefined>;
  /** The project's target group (read once, its ARN cached for the registration). */
  targetGroup(): Promise<TargetGroupRef | undefined>;
}

/** The command an operator runs to start a worker by hand with the same flags, plus `extra`. */
export function workerCommand(ctx: WorkerContext, extra: string[] = []): string {
  const parts = ["synkti", "--project-name", ctx.names.project];
  if (ctx.model) parts.push("--model", ctx.model);
  return [...parts, ...extra].join(" ");
}
