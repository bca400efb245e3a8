import type { ImageSummary } from "../../aws/ec2-discovery.js";
import type { SecurityGroupObservation } from "../../infra/observe-security-group.js";
import type { Requirement } from "../types.js";
import { credentials } from "./account.js";
import { amiResolvable, instanceTypeOffered, usableSubnets } from "./compute.js";
import type { DeployerContext } from "./context.js";
import { securityGroup } from "./infra.js";
import { workersModel } from "./fleet.js";
import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { binaryInS3, weightsInS3 } from "./storage.js";

/**
 * What a SAFE preflight saw and the launch acts on: the very observations the verdict was taken
 * on, never a second reading that could differ (a binary replaced meanwhile, a group deleted).
 */
export interface LaunchObservations {
  /** The caller's account: the bucket owner workers must expect. */
  account: string;
  image: ImageSummary;
  /** The SHA-256 workers must run: this build's, or in a development run the one recorded in S3. */
  binarySha256: string;
  /** True when `binarySha256` is the recorded one (no single binary to hash: a tsx run). */
  binaryFromRecord: boolean;
  /** Total size of the weights, from their manifest. */
  weightsBytes: number;
  /** SHA-256 of that manifest: user-data pins `<model>/manifest-<sha256>.json`. */
  manifestSha256: string;
  securityGroupId: string;
  /** The default subnet of each zone that offers the instance type. */
  subnets: Record<string, string>;
  /** The project's pending or running workers (not stopping), all serving this model: what the plan starts from. */
  workers: InstanceSummary[];
}

/** Observations by requirement id, as the engine reported them (`onObserved`). */
export type Observed = ReadonlyMap<string, unknown>;

function seen<O>(observed: Observed, requirement: Requirement<DeployerContext, O>): O {
  if (!observed.has(requirement.id)) throw new Error(`preflight handed over no '${requirement.id}' observation`);
  return observed.get(requirement.id) as O;
}

/**
 * The typed hand-over; only meaningful after a SAFE verdict (every requirement below passed). A
 * gap is a bug in synkti (a requirement left out of the gate), hence a plain Error: exit 4.
 */
export function launchObservations(observed: Observed): LaunchObservations {
  const who = seen(observed, credentials);
  const image = seen(observed, amiResolvable).image;
  const binary = seen(observed, binaryInS3);
  const weights = seen(observed, weightsInS3).verification;
  const group: SecurityGroupObservation = seen(observed, securityGroup).seen;
  const sha = binary.localSha256 ?? binary.sha256Recorded;
  if (!who.ok || !image || !sha || !weights?.ok || !weights.manifestSha256 || group.state !== "present") throw new Error("preflight handed over a failed observation as SAFE");
  return {
    account: who.account,
    image,
    binarySha256: sha,
    binaryFromRecord: binary.localSha256 === undefined,
    weightsBytes: weights.bytes,
    manifestSha256: weights.manifestSha256,
    securityGroupId: group.groupId,
    subnets: usableSubnets(seen(observed, instanceTypeOffered)),
    workers: seen(observed, workersModel),
  };
}
