import type { Logger } from "../../core/log.js";
import { projectNames } from "../../infra/names.js";
import { rootVolumeFor } from "../../infra/worker-instance.js";
import type { LaunchObservations } from "../../preflight/deployer/handover.js";
import type { LaunchTarget } from "./types.js";
import { renderUserData } from "./user-data.js";

export interface ResolveInput {
  project: string;
  model: string;
  region: string;
  instanceType: string;
  instanceTypes?: string[];
  onDemandFallback?: boolean;
  userDataTemplate: string;
}

/**
 * Turns what a SAFE preflight observed into the RunInstances target: no reading of its own, so the
 * launch executes exactly what the verdict was taken on (image, binary, weights' size, group,
 * zones). Whatever could refuse a launch (the binary in S3 not being this build, no zone with a
 * subnet) is a preflight requirement, refused there with its fix.
 */
export function resolveLaunchTarget(input: ResolveInput, seen: LaunchObservations, log: Logger): LaunchTarget {
  const names = projectNames(input.project);
  if (seen.binaryFromRecord) log.warn("development run: embedding the SHA-256 recorded in S3, not one computed from a local build");
  const userData = renderUserData(input.userDataTemplate, {
    project: input.project,
    model: input.model,
    bucket: names.bucket,
    binarySha256: seen.binarySha256,
    manifestSha256: seen.manifestSha256,
    region: input.region,
    bucketOwner: seen.account,
    weightsBytes: seen.weightsBytes,
  });
  const rootVolume = rootVolumeFor(seen.image, seen.weightsBytes);
  return {
    project: input.project,
    model: input.model,
    region: input.region,
    instanceType: input.instanceType,
    instanceTypes: input.instanceTypes ?? [input.instanceType],
    onDemandFallback: input.onDemandFallback ?? false,
    imageId: seen.image.imageId,
    securityGroupId: seen.securityGroupId,
    instanceProfile: names.instanceProfile,
    subnets: seen.subnets,
    userData,
    binarySha256: seen.binarySha256,
    ...(rootVolume ? { rootVolume } : {}),
  };
}
