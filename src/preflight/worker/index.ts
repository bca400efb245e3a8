import type { AwsClients } from "../../aws/clients.js";
import { createS3Transfer, type S3Transfer } from "../../aws/s3-transfer.js";
import { lookupTargetGroup, type TargetGroupRef } from "../../aws/elbv2-targets.js";
import { getSecureString } from "../../aws/ssm.js";
import type { ImdsClient } from "../../context/imds-client.js";
import type { Clock } from "../../core/clock.js";
import { projectNames } from "../../infra/names.js";
import { runPreflight } from "../engine.js";
import type { PreflightReport, Requirement } from "../types.js";
import { apiKeyReadable } from "./api-key.js";
import { binaryChecksum } from "./binary.js";
import type { InstanceFacts, WorkerContext } from "./context.js";
import { instanceRole, workerIdentity } from "./identity.js";
import { modelServerCommand } from "./model-server.js";
import { portsFree } from "./ports.js";
import { replacementPermission } from "./permissions.js";
import { targetGroupPresent } from "./target-group.js";
import { weightsPresent } from "./weights.js";

export type { InstanceFacts, WorkerContext } from "./context.js";

/** The context's own fields as the agent passes them, plus the flat names it has them under. */
export type WorkerPreflightOptions = Pick<WorkerContext, "verdict" | "model" | "modelsDir" | "modelServerCommand" | "self" | "expectedSha256" | "expectedManifestSha256" | "envPath"> & {
  project: string;
  statusPort: number;
  modelServerPort: number;
  modelServerHost: string | undefined;
};

/** What the agent needs before it starts anything, in declaration order. */
export function workerRequirements(): Requirement<WorkerContext, any>[] {
  return [workerIdentity, instanceRole, binaryChecksum, weightsPresent, modelServerCommand, portsFree, replacementPermission, apiKeyReadable, targetGroupPresent];
}

/** Reads the facts the verdict lacks (local-ipv4, AMI) from IMDS, once, for every requirement. */
export function workerContext(deps: { clients: AwsClients; imds: ImdsClient; clock: Clock; transfer?: S3Transfer }, options: WorkerPreflightOptions): WorkerContext {
  let facts: Promise<InstanceFacts> | undefined;
  let objects: Promise<S3Transfer> | undefined;
  let apiKey: Promise<string | undefined> | undefined;
  let targetGroup: Promise<TargetGroupRef | undefined> | undefined;
  const names = projectNames(options.project);
  const readFacts = async (): Promise<InstanceFacts> => {
    const e = options.verdict.evidence;
    if (!e.instanceId || !e.region || !e.availabilityZone || !e.instanceType) throw new Error("the context verdict holds no EC2 identity");
    const [localIpv4, imageId] = await Promise.all([deps.imds.get("/latest/meta-data/local-ipv4"), deps.imds.get("/latest/meta-data/ami-id")]);
    if (!localIpv4?.trim()) throw new Error("IMDS has no local-ipv4 for this instance");
    return { instanceId: e.instanceId, region: e.region, availabilityZone: e.availabilityZone, instanceType: e.instanceType, localIpv4: localIpv4.trim(), imageId: imageId?.trim() ?? "" };
  };
  return {
    ...options,
    ports: { status: options.statusPort, modelServer: options.modelServerPort, modelServerHost: options.modelServerHost },
    names,
    imds: deps.imds,
    clients: deps.clients,
    clock: deps.clock,
    instance: () => (facts ??= readFacts()),
    objects: () => (objects ??= deps.transfer ? Promise.resolve(deps.transfer) : createS3Transfer(deps.clients)),
    apiKey: () => (apiKey ??= getSecureString(deps.clients, names.apiKeyParameter)),
    targetGroup: () => (targetGroup ??= lookupTargetGroup(deps.clients, names.targetGroup)),
  };
}

export async function runWorkerPreflight(
  deps: { clients: AwsClients; imds: ImdsClient; clock: Clock; signal?: AbortSignal },
  options: WorkerPreflightOptions,
  requirements: Requirement<WorkerContext, any>[] = workerRequirements(),
): Promise<{ report: PreflightReport; context: WorkerContext }> {
  const context = workerContext(deps, options);
  const report = await runPreflight(requirements, context, { clock: deps.clock, defaultTimeoutMs: 10_000, ...(deps.signal ? { signal: deps.signal } : {}) });
  return { report, context };
}
