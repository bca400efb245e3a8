import type { AwsClients } from "../../aws/clients.js";
import { describeImage, latestDeepLearningImage } from "../../aws/ec2-discovery.js";
import type { Ec2Instances } from "../../aws/ec2-instances.js";
import { toSynktiError } from "../../aws/errors.js";
import { isSynktiError, SynktiError } from "../../core/errors.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { projectNames, type ProjectNames } from "../../infra/names.js";
import { rootVolumeFor } from "../../infra/worker-instance.js";
import { createS3Transfer } from "../../aws/s3-transfer.js";
import { parseManifest } from "../upload/manifest.js";
import { verifyBinaryInS3 } from "../upload/verify-binary.js";
import type { LaunchTarget } from "./types.js";
import { renderUserData } from "./user-data.js";

export interface ResolveDeps {
  clients: AwsClients;
  ec2: Ec2Instances;
  clock: Clock;
  log: Logger;
}

export interface ResolveInput {
  project: string;
  model: string;
  region: string;
  instanceType: string;
  /** --ami; default the newest Deep Learning AMI, as preflight resolves it. */
  ami?: string;
  userDataTemplate: string;
  /**
   * SHA-256 of the binary doing the launch (the single binary hashes itself). Embedded in user-data,
   * so workers run exactly this build; a hash read from the bucket itself would prove nothing.
   * Undefined in a development run (tsx): the recorded hash is embedded, with a warning.
   */
  localSha256?: string;
}

/**
 * Turns names into the ids a RunInstances needs, all reads at once. Preflight has already said
 * SAFE; this re-reads only what the launch embeds (the binary's recorded SHA-256, which goes into
 * user-data, and the ids) and fails closed with the fixing command if anything is gone meanwhile.
 */
export async function resolveLaunchTarget(deps: ResolveDeps, input: ResolveInput, signal?: AbortSignal): Promise<LaunchTarget> {
  const names = projectNames(input.project);
  const flags = `--project-name ${input.project} --region ${input.region}`;
  const unsafe = (code: string, message: string, remedy: string) => new SynktiError(message, { code, kind: "unsafe", remedy });
  try {
    const [bucketOwner, weightsBytes, binary, image, securityGroupId, zones, subnets] = await Promise.all([
      deps.clients.accountId(),
      manifestBytes(deps.clients, names, input.model, signal),
      verifyBinaryInS3({ clients: deps.clients, log: deps.log, clock: deps.clock }, names, { ...(signal ? { signal } : {}) }),
      input.ami ? describeImage(deps.clients, input.ami, signal) : latestDeepLearningImage(deps.clients, signal),
      deps.ec2.securityGroupId(names.securityGroup, signal),
      deps.ec2.zonesOffering(input.instanceType, signal),
      deps.ec2.defaultSubnets(signal),
    ]);
    if (!binary.ok || binary.sha256Recorded === undefined) {
      throw unsafe("binary-missing", `Missing: a verified binary at s3://${names.bucket}/${names.binaryKey} (${binary.problems.join("; ")}).`, `synkti upload binary ${flags}`);
    }
    if (input.localSha256 && input.localSha256 !== binary.sha256Recorded) {
      throw unsafe(
        "binary-differs",
        `s3://${names.bucket}/${names.binaryKey} (sha256 ${binary.sha256Recorded.slice(0, 12)}..., version ${binary.version ?? "unknown"}) is not the synkti doing this launch (sha256 ${input.localSha256.slice(0, 12)}...): workers would run another build.`,
        `synkti upload binary ${flags} --file ${process.execPath}`,
      );
    }
    if (!input.localSha256) deps.log.warn("development run: embedding the SHA-256 recorded in S3, not one computed from a local build");
    if (weightsBytes === undefined) {
      throw unsafe("weights-missing", `Missing: s3://${names.bucket}/${names.manifestKey(input.model)} (the weights of ${input.model} were never completely uploaded).`, `synkti upload model ${flags} --model ${input.model} --from <weights-dir>`);
    }
    if (!image) throw unsafe("ami-missing", `Missing: AMI ${input.ami ?? "(newest Deep Learning AMI)"} in ${input.region}.`, `synkti preflight ${flags} --ami <ami-id>`);
    if (!securityGroupId) throw unsafe("security-group-missing", `Missing: security group ${names.securityGroup} in the default VPC.`, `synkti infra up ${flags}`);
    const usable = Object.fromEntries(zones.filter((z) => subnets[z] !== undefined).map((z) => [z, subnets[z]!]));
    if (Object.keys(usable).length === 0) {
      const why = zones.length === 0 ? `no zone of ${input.region} offers ${input.instanceType}` : `no zone offering ${input.instanceType} (${zones.join(", ")}) has a default subnet`;
      throw unsafe("no-zone", `Nowhere to launch: ${why}.`, `synkti preflight ${flags} --instance-type <instance-type>`);
    }
    const userData = renderUserData(input.userDataTemplate, {
      project: input.project,
      model: input.model,
      bucket: names.bucket,
      binaryKey: names.binaryKey,
      binarySha256: input.localSha256 ?? binary.sha256Recorded,
      region: input.region,
      bucketOwner,
    });
    const rootVolume = rootVolumeFor(image, weightsBytes);
    return {
      project: input.project,
      model: input.model,
      region: input.region,
      instanceType: input.instanceType,
      imageId: image.imageId,
      securityGroupId,
      instanceProfile: names.instanceProfile,
      subnets: usable,
      userData,
      binarySha256: input.localSha256 ?? binary.sha256Recorded,
      ...(rootVolume ? { rootVolume } : {}),
    };
  } catch (error) {
    if (isSynktiError(error) || signal?.aborted) throw error;
    throw toSynktiError(error, "resolving what to launch");
  }
}

/** The weights' total size from their manifest; undefined when there is no usable manifest. */
async function manifestBytes(clients: AwsClients, names: ProjectNames, model: string, signal?: AbortSignal): Promise<number | undefined> {
  const transfer = await createS3Transfer(clients);
  const text = await transfer.getText(names.bucket, names.manifestKey(model), signal);
  const parsed = text === undefined ? undefined : parseManifest(text);
  return parsed?.ok ? parsed.manifest.files.reduce((sum, f) => sum + f.size, 0) : undefined;
}
