import type { RunSpec } from "../aws/ec2-instances.js";
import { ROLE_WORKER, TAG_CLUSTER, TAG_INSTANCE_TYPES, TAG_LAUNCH, TAG_MODEL, TAG_ON_DEMAND_FALLBACK, TAG_ROLE, TAG_SLOT, TAG_STATE } from "./names.js";

/**
 * What a worker instance is, in one place: the launch creates it from this spec, and preflight
 * (deployer and worker) sends the very same RunInstances request with DryRun, so a SAFE verdict
 * proves the exact request a launch or a replacement will make, tags and conditions included.
 */

/**
 * IMDS hop limit 1: only processes on the instance itself reach the metadata service (and so the
 * instance's credentials). The agent runs on the host and vLLM needs no IMDS; a container on a
 * bridge network, one hop further, gets nothing.
 */
export const METADATA_HOP_LIMIT = 1;

/** The launch id preflight's DryRun carries: a tag value no real launch uses. */
export const PREFLIGHT_LAUNCH_ID = "preflight";

/** The root EBS volume a worker boots with: sized for the image plus the weights it syncs. */
export interface RootVolume {
  deviceName: string;
  sizeGiB: number;
}

const GiB = 1024 ** 3;
/** Room beyond the weights: vLLM's compile and CUDA-graph caches, logs, a partial re-sync. */
export const ROOT_HEADROOM_GiB = 20;

/**
 * The image's own root size plus the weights (+10%) plus headroom. The weights land on the root
 * volume (`/models`); the image's default size (tens of GiB, mostly taken by the OS, CUDA and
 * frameworks) would otherwise fill up mid-sync and every boot would fail the same way. Undefined
 * when the image does not say what its root device is: then AWS's default is kept.
 */
export function rootVolumeFor(image: { rootDeviceName?: string; rootVolumeGiB?: number }, weightsBytes: number): RootVolume | undefined {
  if (!image.rootDeviceName) return undefined;
  const weightsGiB = Math.ceil((weightsBytes * 1.1) / GiB);
  return { deviceName: image.rootDeviceName, sizeGiB: (image.rootVolumeGiB ?? 0) + weightsGiB + ROOT_HEADROOM_GiB };
}

export interface WorkerInstanceInput {
  project: string;
  imageId: string;
  instanceType: string;
  /** The launch's ordered types (SynktiInstanceTypes): the failover's order. Absent: just `instanceType`. */
  instanceTypes?: string[];
  /** SynktiOnDemandFallback=true: the failover may launch an on-demand replacement last. */
  onDemandFallback?: boolean;
  /** "on-demand" only for a failover's last resort; every launch is spot. */
  market?: "spot" | "on-demand";
  securityGroupId: string;
  instanceProfileName: string;
  /** Tags everything this launch creates, so an interrupted launch undoes exactly its own. */
  launchId: string;
  /** The model it serves (SynktiModel); preflight's DryRun leaves it out when no model is named. */
  model?: string;
  /** The zone's default subnet; preflight leaves the choice to AWS (the default VPC's). */
  subnetId?: string;
  userData?: string;
  clientToken?: string;
  rootVolume?: RootVolume;
  /** SynktiSlot: which of the desired workers it is (a launch's lowest empty slot, a replacement's predecessor's). */
  slot?: number;
}

export function workerRunSpec(input: WorkerInstanceInput): RunSpec {
  return {
    imageId: input.imageId,
    instanceType: input.instanceType,
    ...(input.subnetId ? { subnetId: input.subnetId } : {}),
    securityGroupId: input.securityGroupId,
    instanceProfileName: input.instanceProfileName,
    userData: input.userData ?? "",
    tags: {
      [TAG_CLUSTER]: input.project,
      [TAG_ROLE]: ROLE_WORKER,
      [TAG_LAUNCH]: input.launchId,
      // A worker is booting until it says otherwise on its own tags.
      [TAG_STATE]: "booting",
      ...(input.model ? { [TAG_MODEL]: input.model } : {}),
      ...(input.slot !== undefined ? { [TAG_SLOT]: String(input.slot) } : {}),
      [TAG_INSTANCE_TYPES]: (input.instanceTypes ?? [input.instanceType]).join(","),
      ...(input.onDemandFallback ? { [TAG_ON_DEMAND_FALLBACK]: "true" } : {}),
      Name: `${input.project}-worker`,
    },
    ...(input.clientToken ? { clientToken: input.clientToken } : {}),
    ...(input.rootVolume ? { rootVolume: input.rootVolume } : {}),
    metadataHopLimit: METADATA_HOP_LIMIT,
    ...(input.market === "on-demand" ? { market: "on-demand" as const } : {}),
  };
}
