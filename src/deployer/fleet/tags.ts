import type { InstanceState } from "../../aws/ec2-instances.js";
import { ROLE_WORKER, TAG_CLUSTER, TAG_LAUNCH, TAG_ROLE } from "../../infra/names.js";

/**
 * Membership is tags (DESIGN: no control plane): these selectors are the whole "cluster model".
 *
 * `SynktiStopping=true` is the stop marker. `synkti down` puts it on every instance of the project
 * before terminating any, so a worker's failover (which reads its own tags through IMDS and its
 * peers' through DescribeInstances) sees the cluster is being stopped and launches no replacement.
 * A replacement that slipped through anyway carries SynktiCluster from creation, so down's
 * terminate loop finds and ends it too.
 */
export const TAG_STOPPING = "SynktiStopping";
/** Where peers reach a worker (`<ip>:<port>`); the worker publishes it on its own instance. */
export const TAG_ENDPOINT = "SynktiEndpoint";
export { TAG_CLUSTER, TAG_LAUNCH, TAG_ROLE };

/** Every state but terminated: what still exists, may bill, or may still boot. */
export const LIVE_STATES: readonly InstanceState[] = ["pending", "running", "shutting-down", "stopping", "stopped"];
/** What counts as a serving (or about to serve) worker when planning a launch. */
export const ACTIVE_STATES: readonly InstanceState[] = ["pending", "running"];

export const projectSelector = (project: string) => ({ [TAG_CLUSTER]: project });
export const workerSelector = (project: string) => ({ [TAG_CLUSTER]: project, [TAG_ROLE]: ROLE_WORKER });
export const launchSelector = (project: string, launchId: string) => ({ [TAG_CLUSTER]: project, [TAG_LAUNCH]: launchId });

export const isStopping = (tags: Record<string, string>) => tags[TAG_STOPPING] === "true";
