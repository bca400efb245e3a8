import { TAG_CLUSTER, TAG_ENDPOINT, TAG_LAUNCH, TAG_ROLE, TAG_STOPPING, workerSelector } from "../../infra/names.js";

/**
 * Membership is tags (DESIGN: no control plane): these selectors are the whole "cluster model".
 *
 * `SynktiStopping=true` (TAG_STOPPING) is the stop marker. `synkti down` puts it on every instance
 * of the project before terminating any, so a worker's failover (which reads its own tags through
 * IMDS and its peers' through DescribeInstances) sees the cluster is being stopped and launches no
 * replacement, and a worker still booting never joins the load balancer (src/worker/load-balancer/
 * stop-marker.ts). `isStopping` reads it: src/cluster/membership.ts. A replacement that slipped through anyway carries SynktiCluster from creation, so
 * down's terminate loop finds and ends it too.
 */
export { TAG_CLUSTER, TAG_ENDPOINT, TAG_LAUNCH, TAG_ROLE, TAG_STOPPING, workerSelector };

export { LIVE_STATES } from "../../aws/instance-states.js";

export const projectSelector = (project: string) => ({ [TAG_CLUSTER]: project });
export const launchSelector = (project: string, launchId: string) => ({ [TAG_CLUSTER]: project, [TAG_LAUNCH]: launchId });
