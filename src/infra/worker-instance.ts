import type { RunSpec } from "../aws/ec2-instances.js";
import { ROLE_WORKER, TAG_CLUSTER, TAG_LAUNCH, TAG_ROLE } from "./names.js";

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

export interface WorkerInstanceInput {
  project: string;
  imageId: string;
  instanceType: string;
  securityGroupId: string;
  instanceProfileName: string;
  /** Tags everything this launch creates, so an interrupted launch undoes exactly its own. */
  launchId: string;
  /** The zone's default subnet; preflight leaves the choice to AWS (the default VPC's). */
  subnetId?: string;
  userData?: string;
  clientToken?: string;
}

export function workerRunSpec(input: WorkerInstanceInput): RunSpec {
  return {
    imageId: input.imageId,
    instanceType: input.instanceType,
    ...(input.subnetId ? { subnetId: input.subnetId } : {}),
    securityGroupId: input.securityGroupId,
    instanceProfileName: input.instanceProfileName,
    userData: input.userData ?? "",
    tags: { [TAG_CLUSTER]: input.project, [TAG_ROLE]: ROLE_WORKER, [TAG_LAUNCH]: input.launchId, Name: `${input.project}-worker` },
    ...(input.clientToken ? { clientToken: input.clientToken } : {}),
    metadataHopLimit: METADATA_HOP_LIMIT,
  };
}
