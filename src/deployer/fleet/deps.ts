import type { AwsClients } from "../../aws/clients.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { FleetDeps } from "./terminate.js";

export function fleetDeps(clients: AwsClients, clock: Clock, log: Logger): FleetDeps {
  return { ec2: createEc2Instances(clients), clock, log };
}
