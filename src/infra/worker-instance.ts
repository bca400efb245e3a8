import type { RunSpec } from "../aws/ec2-instances.js";
import { ROLE_WORKER, TAG_CLUSTER, TAG_INSTANCE_TYPES, TAG_LAUNCH, TAG_MODEL, TAG_NAME, TAG_ON_DEMAND_FALLBACK, TAG_ROLE, TAG_SLOT, TAG_STATE } from "./names.js";

/**
 * What a worker instance is, in one place: the launch creates it from this spec, and preflight
 * (deployer and worker) sends the very same RunInstances request with DryRun, so a SAFE verdict
 * proves the exact request a launch or a replacement will make, tags and conditions included.
 */

/**
 * IMDS hop limit 1: only processes on the instance itself reach the metadata service (and so the
 * instance's credentials); a container on a bridge network, one hop further, gets nothing. On the
 * host it does not separate the agent from vLLM: user-data's own user for the model server, whose
 * packets to the metadata address are rejected, does (src/worker/model-server/run-as.ts).
 */
export const METADATA_HOP_LIMIT = 1;

/** The launch id preflight's DryRun carries: a tag value no real launch uses. */
export const PREFLIGHT_LAUNCH_ID = "preflight";

/** The root EBS volume a worker boots with: sized for the image plus the weights it syncs. */
export interface RootVolume {
  deviceName: string;
  sizeGiB: number;
  /** gp3 throughput above the included 125 MiB/s, when the weights land on this volume. */
  throughputMiBps?: number;
  /** gp3 IOPS above the included 3000, as the throughput requires (at most 0.25 MiB/s per IOPS). */
  iops?: number;
}

/**
 * gp3 includes 125 MiB/s and 3000 IOPS; more throughput is provisioned, up to 1000 MiB/s (the
 * figure this code was written against), at 4 IOPS per MiB/s. Sized so the weights are written in
 * about WEIGHTS_WRITE_SECONDS: the network of a GPU instance brings gigabytes a second, and the
 * default 125 MiB/s alone makes a 15 GB model a 2-minute write. Cost: README, "Disk".
 */
export const GP3_INCLUDED_MIBPS = 125;
export const GP3_MAX_MIBPS = 1000;
export const GP3_INCLUDED_IOPS = 3000;
export const WEIGHTS_WRITE_SECONDS = 30;

export function gp3ThroughputFor(weightsBytes: number): { throughputMiBps: number; iops: number } | undefined {
  const wanted = Math.ceil(weightsBytes / 2 ** 20 / WEIGHTS_WRITE_SECONDS);
  if (wanted <= GP3_INCLUDED_MIBPS) return undefined;
  const throughputMiBps = Math.min(GP3_MAX_MIBPS, Math.ceil(wanted / 25) * 25);
  return { throughputMiBps, iops: Math.max(GP3_INCLUDED_IOPS, throughputMiBps * 4) };
}

/**
 * Instance types with NVMe instance store, where user-data puts the models folder instead of the
 * root volume (and the root's provisioned throughput would be paid for nothing). A static list
 * keeps the run spec pure; user-data decides from the devices it finds, so a type missing here
 * only pays for throughput it does not use, and one wrongly listed writes at gp3's base rate.
 */
const INSTANCE_STORE_FAMILIES = /^(g4dn|g4ad|g5|g6|g6e|gr6|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200|trn1|trn1n|trn2)\./;
/** Any other family whose attributes include "d" (c5d, m6id, r7gd ...) has local NVMe too. */
const D_ATTRIBUTE = /^[a-z]+\d+[a-z]*d[a-z]*\./;

export function hasInstanceStore(instanceType: string): boolean {
  return INSTANCE_STORE_FAMILIES.test(instanceType) || D_ATTRIBUTE.test(instanceType);
}

/** The root volume for this type: no provisioned throughput where the weights go to instance store. */
export function rootVolumeForType(instanceType: string, volume: RootVolume | undefined): RootVolume | undefined {
  if (!volume || !hasInstanceStore(instanceType)) return volume;
  const { throughputMiBps: _t, iops: _i, ...plain } = volume;
  return plain;
}

const GiB = 1024 ** 3;
/** Room beyond the weights: vLLM's compile and CUDA-graph caches, logs, a partial re-sync. */
export const ROOT_HEADROOM_GiB = 20;

/**
 * The image's own root size plus the weights (+10%) plus headroom, with gp3 throughput for the
 * weights (dropped per type by rootVolumeForType where instance store takes them). The weights land on the root
 * volume (`/models`); the image's default size (tens of GiB, mostly taken by the OS, CUDA and
 * frameworks) would otherwise fill up mid-sync and every boot would fail the same way. Undefined
 * when the image does not say what its root device is: then AWS's default is kept.
 */
export function rootVolumeFor(image: { rootDeviceName?: string; rootVolumeGiB?: number }, weightsBytes: number): RootVolume | undefined {
  if (!image.rootDeviceName) return undefined;
  const weightsGiB = Math.ceil((weightsBytes * 1.1) / GiB);
  return { deviceName: image.rootDeviceName, sizeGiB: (image.rootVolumeGiB ?? 0) + weightsGiB + ROOT_HEADROOM_GiB, ...gp3ThroughputFor(weightsBytes) };
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
      [TAG_NAME]: `${input.project}-worker`,
    },
    ...(input.clientToken ? { clientToken: input.clientToken } : {}),
    ...(input.rootVolume ? { rootVolume: rootVolumeForType(input.instanceType, input.rootVolume)! } : {}),
    metadataHopLimit: METADATA_HOP_LIMIT,
    ...(input.market === "on-demand" ? { market: "on-demand" as const } : {}),
  };
}
