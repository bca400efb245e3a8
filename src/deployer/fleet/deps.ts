import type { AwsClients } from "../../aws/clients.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import { createObjectReader, type ObjectReader } from "../../aws/s3-objects.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { FleetDeps } from "./terminate.js";

/** EC2 for the fleet, and bounded S3 reads for what workers left behind (status, logs). */
export function fleetDeps(clients: AwsClients, clock: Clock, log: Logger): FleetDeps & { objects: ObjectReader } {
  return { ec2: createEc2Instances(clients), objects: createObjectReader(clients), clock, log };
}
