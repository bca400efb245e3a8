import { readFile } from "node:fs/promises";
import path from "node:path";
import type { AwsClients } from "../../aws/clients.js";
import { describeImage, projectSecurityGroupId, zonesOffering } from "../../aws/ec2-discovery.js";
import { createEc2Instances, type RunSpec } from "../../aws/ec2-instances.js";
import type { ImdsClient } from "../../context/imds-client.js";
import { parseManifest } from "../../artifacts/manifest.js";
import type { LaunchRequest } from "../../failover/types.js";
import { TAG_INSTANCE_TYPES, TAG_ON_DEMAND_FALLBACK, TAG_SLOT, type ProjectNames } from "../../infra/names.js";
import { TAGS_PATH } from "../../context/observe.js";
import { rootVolumeFor, workerRunSpec, type RootVolume } from "../../infra/worker-instance.js";
import type { InstanceFacts } from "../../preflight/worker/context.js";

/** Where a worker reads the user-data it was launched with (IMDSv2, like every other read). */
export const USER_DATA_PATH = "/latest/user-data";

/**
 * Everything of the launch's own RunInstances request that a replacement repeats, as the worker
 * reproduces it from what it can see (no deployer needed, no copy of the request kept anywhere):
 * - user-data: its own, from IMDS (it pins the same binary and manifest checksums);
 * - image and instance type: its own (IMDS identity);
 * - security group and instance profile: the project's, by name (DescribeSecurityGroups);
 * - subnets: the default subnet of each zone that offers the type (what the launch chose from:
 *   DescribeInstanceTypeOfferings x DescribeSubnets), which are also the load balancer's zones;
 * - root volume: `rootVolumeFor(image, weights)`, the launch's formula, from the image's root
 *   device (DescribeImages) and the weights' size in its local manifest.
 */
export interface ReplacementTemplate {
  project: string;
  model: string | undefined;
  imageId: string;
  securityGroupId: string;
  instanceProfileName: string;
  userData: string;
  /** zone -> default subnet, for the zones that offer this worker's instance type. */
  subnets: Record<string, string>;
  rootVolume: RootVolume | undefined;
  /** The launch's ordered types and on-demand choice (this worker's own tags), carried on to the replacement. */
  launchTypes: LaunchTypes;
  /**
   * The zones offering each of the launch's other types (DescribeInstanceTypeOfferings); this
   * worker's own type is offered in every zone of `subnets`. A pool outside them is not asked for.
   */
  offeredZones?: Record<string, string[]>;
  /** This worker's own SynktiSlot (IMDS tags), which its failover's replacement inherits. */
  slot?: string;
}

/** Whether `instanceType` can be launched in `zone` as far as the template knows. */
export function offeredIn(template: ReplacementTemplate, instanceType: string, zone: string): boolean {
  const zones = template.offeredZones?.[instanceType];
  return zones === undefined || zones.includes(zone);
}

/** What the launch said about instance types, as a worker reads it from its own tags. */
export interface LaunchTypes {
  instanceTypes: string[];
  onDemandFallback: boolean;
}

/**
 * The launch's tags SynktiInstanceTypes / SynktiOnDemandFallback, read through IMDS (the launch
 * enables instance metadata tags). Missing (a worker launched before they existed, tags disabled):
 * this worker's own type, spot only, as before.
 */
async function readLaunchTypes(imds: ImdsClient, ownType: string, signal?: AbortSignal): Promise<LaunchTypes> {
  const opts = signal ? { signal } : {};
  const [types, onDemand] = await Promise.all([
    imds.get(`${TAGS_PATH}/${TAG_INSTANCE_TYPES}`, opts).catch(() => undefined),
    imds.get(`${TAGS_PATH}/${TAG_ON_DEMAND_FALLBACK}`, opts).catch(() => undefined),
  ]);
  return launchTypesFrom(types, onDemand, ownType);
}

/** Pure: the tags' values to the failover's settings. */
export function launchTypesFrom(types: string | undefined, onDemand: string | undefined, ownType: string): LaunchTypes {
  const list = (types ?? "").split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  return { instanceTypes: list.length > 0 ? [...new Set(list)] : [ownType], onDemandFallback: onDemand?.trim() === "true" };
}

export interface TemplateInput {
  names: ProjectNames;
  facts: InstanceFacts;
  model: string | undefined;
  modelsDir: string;
}

export async function readReplacementTemplate(deps: { clients: AwsClients; imds: ImdsClient }, input: TemplateInput, signal?: AbortSignal): Promise<ReplacementTemplate> {
  const { clients, imds } = deps;
  const { names, facts } = input;
  const [userData, securityGroupId, zones, subnets, image, weightsBytes, [launchTypes, offeredZones], slot] = await Promise.all([
    imds.get(USER_DATA_PATH, signal ? { signal } : {}),
    projectSecurityGroupId(clients, names.securityGroup, names.project, signal),
    zonesOffering(clients, facts.instanceType, signal),
    createEc2Instances(clients).defaultSubnets(signal),
    describeImage(clients, facts.imageId, signal),
    input.model ? localWeightsBytes(path.join(input.modelsDir, input.model, "manifest.json")) : Promise.resolve(0),
    readLaunchTypes(imds, facts.instanceType, signal).then(async (types) => {
      const others = types.instanceTypes.filter((t) => t !== facts.instanceType);
      const offered = await Promise.all(others.map(async (t) => [t, await zonesOffering(clients, t, signal)] as const));
      return [types, Object.fromEntries(offered)] as const;
    }),
    imds.get(`${TAGS_PATH}/${TAG_SLOT}`, signal ? { signal } : {}).then((v) => v?.trim() || undefined, () => undefined),
  ]);
  if (!securityGroupId) throw new Error(`security group ${names.securityGroup} tagged for ${names.project} not found (synkti infra up --project-name ${names.project} makes it)`);
  const rootVolume = image ? rootVolumeFor(image, weightsBytes) : undefined;
  return {
    project: names.project,
    model: input.model,
    imageId: facts.imageId,
    securityGroupId,
    instanceProfileName: names.instanceProfile,
    // No user-data (a hand-started agent) launches a bare instance that never serves: HEALTH catches it.
    userData: userData ?? "",
    subnets: Object.fromEntries(zones.filter((z) => subnets[z] !== undefined).map((z) => [z, subnets[z]!])),
    rootVolume,
    launchTypes,
    offeredZones,
    ...(slot !== undefined ? { slot } : {}),
  };
}

/** The sum of the manifest's file sizes (what the launch sized the root volume with); 0 if unreadable. */
async function localWeightsBytes(manifestPath: string): Promise<number> {
  const text = await readFile(manifestPath, "utf8").catch(() => undefined);
  const parsed = text === undefined ? undefined : parseManifest(text);
  return parsed?.ok ? parsed.manifest.files.reduce((sum, f) => sum + f.size, 0) : 0;
}

/** The replacement's RunInstances request: the shared worker run spec plus the failover's tags. */
export function replacementRunSpec(template: ReplacementTemplate, request: LaunchRequest): RunSpec {
  const spec = workerRunSpec({
    project: template.project,
    imageId: template.imageId,
    instanceType: request.candidate.instanceType,
    instanceTypes: template.launchTypes.instanceTypes,
    onDemandFallback: template.launchTypes.onDemandFallback,
    market: request.candidate.market,
    securityGroupId: template.securityGroupId,
    instanceProfileName: template.instanceProfileName,
    launchId: request.launchId,
    ...(template.model ? { model: template.model } : {}),
    ...(template.subnets[request.candidate.zone] ? { subnetId: template.subnets[request.candidate.zone]! } : {}),
    userData: template.userData,
    clientToken: request.clientToken,
    ...(template.rootVolume ? { rootVolume: template.rootVolume } : {}),
  });
  return { ...spec, tags: { ...spec.tags, ...request.tags } };
}
