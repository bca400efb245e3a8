import type { AwsClients } from "../../aws/clients.js";
import type { Clock } from "../../core/clock.js";
import { silentLogger, type Logger } from "../../core/log.js";
import { projectNames } from "../../infra/names.js";
import { runPreflight } from "../engine.js";
import type { PreflightReport, Requirement } from "../types.js";
import { credentials, region } from "./account.js";
import { amiResolvable, instanceTypeOffered, spotQuota } from "./compute.js";
import { instanceTypesAllowed } from "./instance-types.js";
import { DEFAULT_INSTANCE_TYPE, type DeployerContext } from "./context.js";
import { bucket, bucketHardening, instanceProfile, role, rolePolicy, securityGroup } from "./infra.js";
import { loadBalancerRequirements } from "./load-balancer.js";
import { launchPermission, simulatedPermissions } from "./permissions.js";
import { binaryInS3, weightsInS3 } from "./storage.js";
import { workersModel } from "./fleet.js";

export { DEFAULT_INSTANCE_TYPE, type DeployerContext } from "./context.js";
export { launchObservations, type LaunchObservations, type Observed } from "./handover.js";

export interface DeployerPreflightOptions {
  project: string;
  region: string | undefined;
  model?: string;
  instanceType?: string;
  /** Ordered; when given, its first is the instance type (`instanceType` is then ignored). */
  instanceTypes?: string[];
  onDemandFallback?: boolean;
  workers?: number;
  ami?: string;
  localBinary?: { path: string; version: string };
  deep?: boolean;
}

/** What the deployer's main operation (launch workers) needs, in declaration order. */
export function deployerRequirements(): Requirement<DeployerContext, any>[] {
  return [
    region,
    credentials,
    instanceTypeOffered,
    amiResolvable,
    spotQuota,
    instanceTypesAllowed,
    bucket,
    bucketHardening,
    binaryInS3,
    weightsInS3,
    role,
    rolePolicy,
    instanceProfile,
    securityGroup,
    ...loadBalancerRequirements,
    launchPermission,
    simulatedPermissions,
    workersModel,
  ];
}

export function deployerContext(
  deps: { clients: AwsClients; clock: Clock; log?: Logger; signal?: AbortSignal },
  options: DeployerPreflightOptions,
): DeployerContext {
  const shared = new Map<string, Promise<unknown>>();
  return {
    clients: deps.clients,
    clock: deps.clock,
    log: deps.log ?? silentLogger,
    deep: options.deep ?? false,
    once: <T>(key: string, observe: (signal: AbortSignal | undefined) => Promise<T>) => {
      if (!shared.has(key)) shared.set(key, observe(deps.signal));
      return shared.get(key) as Promise<T>;
    },
    names: projectNames(options.project),
    region: options.region,
    model: options.model,
    ...launchTypes(options),
    onDemandFallback: options.onDemandFallback ?? false,
    workers: options.workers ?? 1,
    ami: options.ami,
    localBinary: options.localBinary,
    identity: () => deps.clients.identity(),
  };
}

/** `--instance-types a,b` wins over `--instance-type`; either way the first type is the launch's. */
function launchTypes(options: DeployerPreflightOptions): { instanceType: string; instanceTypes: string[] } {
  const instanceTypes = options.instanceTypes && options.instanceTypes.length > 0 ? options.instanceTypes : [options.instanceType ?? DEFAULT_INSTANCE_TYPE];
  return { instanceType: instanceTypes[0]!, instanceTypes };
}

export async function runDeployerPreflight(
  deps: { clients: AwsClients; clock: Clock; log?: Logger; signal?: AbortSignal; onObserved?: (id: string, observation: unknown) => void },
  options: DeployerPreflightOptions,
  requirements: Requirement<DeployerContext, any>[] = deployerRequirements(),
): Promise<PreflightReport> {
  const ctx = deployerContext(deps, options);
  // Each AWS call ends by its own deadline with a message naming the endpoint; the observation's outlasts it.
  const minTimeoutMs = deps.clients.deadlines ? deps.clients.deadlines.answerMs + 1000 : undefined;
  const report = await runPreflight(requirements, ctx, { clock: deps.clock, defaultTimeoutMs: 15_000, signal: deps.signal, ...(minTimeoutMs ? { minTimeoutMs } : {}), ...(deps.onObserved ? { onObserved: deps.onObserved } : {}) });
  // A fix kept from an AWS error says <project>, which the AWS layer cannot know: fill it in.
  const fill = (fix: string | null) => fix?.replaceAll("<project>", options.project) ?? null;
  return { ...report, requirements: report.requirements.map((r) => ({ ...r, fix: fill(r.fix) })) };
}
