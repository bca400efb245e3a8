import { describeImage, DLAMI_OWNER, latestDeepLearningImage, type ImageSummary } from "../../aws/ec2-discovery.js";
import { zonesOffering } from "../../aws/ec2-discovery.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import { quotaFor, vcpuQuota, type QuotaObservation } from "../../aws/quotas.js";
import { instanceTypeInfo, type InstanceTypeInfo } from "../../aws/instance-types.js";
import { imageOwnerAllowed } from "../../infra/compute-policy.js";
import type { Requirement } from "../types.js";
import { preflightCommand, type DeployerContext } from "./context.js";

/** The zones offering the instance type, and the default subnet of each zone that has one. */
export type ZonesObservation = { zones: string[]; subnets: Record<string, string> };

/** Zones a worker can go to: offering the type and with a default subnet (the launch's own placement set). */
export function usableSubnets(obs: ZonesObservation): Record<string, string> {
  return Object.fromEntries(obs.zones.filter((z) => obs.subnets[z] !== undefined).map((z) => [z, obs.subnets[z]!]));
}

export const instanceTypeOffered: Requirement<DeployerContext, ZonesObservation> = {
  id: "instance-type",
  title: "GPU instance type offered in the region",
  dependsOn: ["credentials", "region"],
  async observe(ctx, signal) {
    const [zones, subnets] = await Promise.all([zonesOffering(ctx.clients, ctx.instanceType, signal), createEc2Instances(ctx.clients).defaultSubnets(signal)]);
    return { zones, subnets };
  },
  verdict(obs, ctx) {
    const fix = { command: preflightCommand(ctx, ["--instance-type", "<instance-type>"]), needs: ["instance-type"] };
    const usable = Object.keys(usableSubnets(obs));
    if (obs.zones.length === 0) return { status: "fail", observed: `${ctx.instanceType} is offered in no availability zone of ${ctx.region}`, fix };
    if (usable.length === 0) {
      return { status: "fail", observed: `no zone offering ${ctx.instanceType} (${obs.zones.join(", ")}) has a default subnet to launch into`, fix };
    }
    const without = obs.zones.filter((z) => !usable.includes(z));
    return { status: "pass", observed: `${ctx.instanceType} in ${usable.join(", ")}${without.length ? ` (not used, no default subnet: ${without.join(", ")})` : ""}` };
  },
};

/** `account`: the caller's, when STS answered (the worker policy names it among the image owners). */
export type AmiObservation = { requested: string | undefined; image: ImageSummary | undefined; account?: string | undefined };

/** A vCPU quota, read once per preflight ("spot-quota" and "instance-types" both need the first type's). */
export function sharedQuota(ctx: DeployerContext, market: "spot" | "on-demand", instanceType: string): Promise<QuotaObservation> {
  const quota = quotaFor(market, instanceType);
  return ctx.once(`quota/${market}/${quota.code}`, (shared) => vcpuQuota(ctx.clients, quota, shared));
}

/** An instance type's facts, read once per preflight (its vCPUs for the quota, its GPUs for the types). */
export function sharedTypeInfo(ctx: DeployerContext, instanceType: string): Promise<InstanceTypeInfo | undefined> {
  return ctx.once(`instance-type/${instanceType}`, (shared) => instanceTypeInfo(ctx.clients, instanceType, shared));
}

/** The image a launch would use, looked up once per preflight (the DryRun launch needs it too). */
export function launchImage(ctx: DeployerContext): Promise<ImageSummary | undefined> {
  return ctx.once("launch-image", (shared) => (ctx.ami ? describeImage(ctx.clients, ctx.ami, shared) : latestDeepLearningImage(ctx.clients, shared)));
}

/** The AMI to launch: --ami when given, else the newest AWS Deep Learning AMI (NVIDIA driver). */
export const amiResolvable: Requirement<DeployerContext, AmiObservation> = {
  id: "ami",
  title: "AMI to launch resolvable",
  dependsOn: ["credentials", "region"],
  async observe(ctx, signal) {
    const [image, who] = await Promise.all([launchImage(ctx), ctx.identity().catch(() => undefined)]);
    return { requested: ctx.ami, image, account: who?.account };
  },
  verdict({ requested, image, account }, ctx) {
    const fix = { command: preflightCommand(ctx, ["--ami", "<ami-id>"]), needs: ["ami-id"] };
    if (!image) {
      const observed = requested ? `${requested} not found in ${ctx.region}` : `no Deep Learning AMI found in ${ctx.region}`;
      return { status: "fail", observed, fix };
    }
    if (image.state !== "available") return { status: "fail", observed: `${image.imageId} is ${image.state}`, fix };
    if (image.architecture !== "x86_64") {
      return { status: "fail", observed: `${image.imageId} is ${image.architecture}; synkti ships a linux-x64 binary`, fix };
    }
    if (account && (image.ownerId || image.ownerAlias) && !imageOwnerAllowed(image, account)) {
      // The launch would work, but every replacement would be refused by the worker policy.
      return {
        status: "fail",
        observed: `${image.imageId} is owned by ${image.ownerAlias ?? image.ownerId}; workers may launch replacements only from images of Amazon, the Deep Learning AMIs (${DLAMI_OWNER}) or this account (${account}): copy it into this account, then launch with the copy's id (--ami <ami-id>)`,
        fix: { command: `aws ec2 copy-image --source-image-id ${image.imageId} --source-region ${ctx.region ?? "<region>"} --name synkti-${ctx.names.project}-worker${ctx.region ? ` --region ${ctx.region}` : ""}`, ...(ctx.region ? {} : { needs: ["region"] }) },
      };
    }
    return { status: "pass", observed: `${image.imageId} (${image.name})` };
  },
};

type QuotaCheck = { quota: QuotaObservation; vcpusPerInstance: number | undefined };

/**
 * Spot vCPU quota: the workers plus one replacement in flight during a failover must fit.
 * Without it, launches fail with MaxSpotInstanceCountExceeded after everything else went well.
 */
export const spotQuota: Requirement<DeployerContext, QuotaCheck> = {
  id: "spot-quota",
  title: "spot GPU vCPU quota",
  dependsOn: ["credentials", "region"],
  async observe(ctx, signal) {
    const [quota, info] = await Promise.all([
      sharedQuota(ctx, "spot", ctx.instanceType),
      sharedTypeInfo(ctx, ctx.instanceType),
    ]);
    return { quota, vcpusPerInstance: info?.vcpus };
  },
  verdict({ quota, vcpusPerInstance }, ctx) {
    if (!quota.known) {
      return { status: "warn", observed: `not verified: ${quota.quotaName} (${quota.code}) unreadable: ${quota.reason}` };
    }
    if (vcpusPerInstance === undefined) {
      return { status: "warn", observed: `quota ${quota.vcpus} vCPUs; vCPUs of ${ctx.instanceType} unknown` };
    }
    const needed = (ctx.workers + 1) * vcpusPerInstance;
    const observed = `${quota.quotaName}: ${quota.vcpus} vCPUs; ${ctx.workers} workers + 1 replacement need ${needed}`;
    if (quota.vcpus >= needed) return { status: "pass", observed };
    return {
      status: "fail",
      observed,
      fix: {
        command: `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${quota.code} --desired-value ${needed}${ctx.region ? ` --region ${ctx.region}` : ""}`,
      },
    };
  },
};
