import type { AwsClients } from "../../aws/clients.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import { toSynktiError } from "../../aws/errors.js";
import type { Clock } from "../../core/clock.js";
import { isSynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import type { FleetDeps } from "./terminate.js";

export function fleetDeps(clients: AwsClients, clock: Clock, log: Logger): FleetDeps {
  return { ec2: createEc2Instances(clients), clock, log };
}

/** Runs a fleet operation; an AWS failure becomes a SynktiError with context and a remedy (exit 3). */
export async function withAwsContext<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isSynktiError(error) ? error : toSynktiError(error, doing);
  }
}
