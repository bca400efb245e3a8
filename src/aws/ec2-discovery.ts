import type { Image, RunInstancesCommandInput } from "@aws-sdk/client-ec2";
import type { AwsClients } from "./clients.js";
import { awsErrorName } from "./errors.js";

/** Availability zones of the client's region that offer the instance type. */
export async function zonesOffering(clients: AwsClients, instanceType: string, signal?: AbortSignal): Promise<string[]> {
  const { DescribeInstanceTypeOfferingsCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  const zones: string[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: "availability-zone",
        Filters: [{ Name: "instance-type", Values: [instanceType] }],
        NextToken,
      }),
      { abortSignal: signal },
    );
    for (const offering of out.InstanceTypeOfferings ?? []) if (offering.Location) zones.push(offering.Location);
    NextToken = out.NextToken;
  } while (NextToken);
  return zones.sort();
}

export interface ImageSummary {
  imageId: string;
  name: string;
  state: string;
  architecture: string;
  creationDate: string;
  /** Who owns it: the account, and the alias AWS shows for its own images ("amazon"). */
  ownerId?: string;
  ownerAlias?: string;
  /** The root volume as the image defines it; a launch grows it to hold the weights. */
  rootDeviceName?: string;
  rootVolumeGiB?: number;
}

/** Owner of the AWS Deep Learning AMIs (NVIDIA driver, CUDA), used when no --ami is given. */
export const DLAMI_OWNER = "898082745236";
export const DLAMI_NAME_PATTERNS = ["Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)*", "Deep Learning*Ubuntu*"];

export async function describeImage(clients: AwsClients, imageId: string, signal?: AbortSignal): Promise<ImageSummary | undefined> {
  const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  try {
    const out = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }), { abortSignal: signal });
    return out.Images?.map(toSummary)[0];
  } catch (error) {
    if (awsErrorName(error).startsWith("InvalidAMIID")) return undefined;
    throw error;
  }
}

/** The newest x86_64 Deep Learning AMI for Ubuntu, trying the most specific name first. */
export async function latestDeepLearningImage(clients: AwsClients, signal?: AbortSignal): Promise<ImageSummary | undefined> {
  const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  for (const pattern of DLAMI_NAME_PATTERNS) {
    const out = await ec2.send(
      new DescribeImagesCommand({
        Owners: [DLAMI_OWNER],
        Filters: [
          { Name: "name", Values: [pattern] },
          { Name: "architecture", Values: ["x86_64"] },
          { Name: "state", Values: ["available"] },
        ],
      }),
      { abortSignal: signal },
    );
    const newest = (out.Images ?? []).map(toSummary).sort((a, b) => b.creationDate.localeCompare(a.creationDate))[0];
    if (newest) return newest;
  }
  return undefined;
}

function toSummary(image: Image): ImageSummary {
  const root = image.BlockDeviceMappings?.find((m) => m.DeviceName === image.RootDeviceName)?.Ebs?.VolumeSize;
  return {
    imageId: image.ImageId ?? "",
    name: image.Name ?? "",
    state: image.State ?? "unknown",
    architecture: image.Architecture ?? "unknown",
    creationDate: image.CreationDate ?? "",
    ...(image.OwnerId ? { ownerId: image.OwnerId } : {}),
    ...(image.ImageOwnerAlias ? { ownerAlias: image.ImageOwnerAlias } : {}),
    ...(image.RootDeviceName ? { rootDeviceName: image.RootDeviceName } : {}),
    ...(root !== undefined ? { rootVolumeGiB: root } : {}),
  };
}

export type DryRunResult = { allowed: true } | { allowed: false; reason: string };

/**
 * Proves permission without acting: with DryRun, AWS answers DryRunOperation when the call would
 * have been allowed and UnauthorizedOperation when not.
 */
export async function dryRunRunInstances(clients: AwsClients, input: RunInstancesCommandInput, signal?: AbortSignal): Promise<DryRunResult> {
  const { RunInstancesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  return interpretDryRun(() => ec2.send(new RunInstancesCommand({ ...input, DryRun: true }), { abortSignal: signal }));
}

export async function dryRunDescribeInstances(clients: AwsClients, signal?: AbortSignal): Promise<DryRunResult> {
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  return interpretDryRun(() => ec2.send(new DescribeInstancesCommand({ DryRun: true, MaxResults: 5 }), { abortSignal: signal }));
}

/**
 * The project's security group id, found by its name and project tag (DescribeSecurityGroups
 * only, which a worker may call; the worker policy lets a launch use only groups so tagged).
 */
export async function projectSecurityGroupId(clients: AwsClients, name: string, project: string, signal?: AbortSignal): Promise<string | undefined> {
  const { DescribeSecurityGroupsCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await clients.ec2();
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "group-name", Values: [name] },
        { Name: "tag:SynktiCluster", Values: [project] },
      ],
    }),
    { abortSignal: signal },
  );
  return out.SecurityGroups?.[0]?.GroupId;
}

/** "ec2:Action (why)" for each DryRun that was refused, for a finding's `observed`. */
export function deniedDryRuns(results: Record<string, DryRunResult>): string[] {
  return Object.entries(results).flatMap(([action, result]) => (result.allowed ? [] : [`${action} (${result.reason})`]));
}

async function interpretDryRun(call: () => Promise<unknown>): Promise<DryRunResult> {
  try {
    await call();
    // A real AWS never succeeds with DryRun; treat it as allowed (an emulator may just run it).
    return { allowed: true };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === "DryRunOperation") return { allowed: true };
    if (name === "UnauthorizedOperation" || name === "AccessDenied" || name === "AccessDeniedException") {
      return { allowed: false, reason: error instanceof Error ? error.message : name };
    }
    throw error;
  }
}
