import type { AwsClients } from "../../aws/clients.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import { createObjectReader, type ObjectReader } from "../../aws/s3-objects.js";
import { createConditionalObjects } from "../../aws/s3-conditional.js";
import { createReplaceObjects } from "../../aws/s3-replace.js";
import type { DesiredObjects } from "../desired/store.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { createProjectLoadBalancer, createSecretReader, type ProjectLoadBalancer, type SecretReader } from "../endpoint/load-balancer.js";
import type { FleetDeps } from "./terminate.js";

/**
 * EC2 for the fleet, bounded S3 reads for what workers left behind (status, logs), the project's
 * load balancer (status shows its targets, down drains them), the key's reader (endpoint) and the
 * conditional writes of cluster/desired.json and the launch's slot claims.
 */
export function fleetDeps(clients: AwsClients, clock: Clock, log: Logger): FleetDeps & { objects: ObjectReader; lb: ProjectLoadBalancer; secrets: SecretReader; conditional: DesiredObjects } {
  return {
    ec2: createEc2Instances(clients),
    objects: createObjectReader(clients),
    lb: createProjectLoadBalancer(clients),
    secrets: createSecretReader(clients),
    conditional: { ...createConditionalObjects(clients), ...createReplaceObjects(clients) },
    clock,
    log,
  };
}
