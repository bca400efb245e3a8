/**
 * `synkti infra destroy`: the only way permanent resources go away, and only on purpose. Without
 * confirmation it lists what it would delete and changes nothing. It refuses while any instance of
 * the project is alive (they run under the role, inside the group, reading the bucket). Idempotent:
 * what is already gone is reported "absent".
 */
import * as ec2 from "../aws/ec2.js";
import * as elbv2 from "../aws/elbv2.js";
import { deleteListener } from "../aws/elbv2-listeners.js";
import * as ssm from "../aws/ssm.js";
import { pollUntil } from "../core/poll.js";
import * as iam from "../aws/iam.js";
import { deleteBucketPolicy } from "../aws/s3.js";
import { countObjectVersions, deleteBucket, emptyBucket } from "../aws/s3-objects.js";
import { requireRegion } from "./account.js";
import { doing, type InfraDeps, type ResourceKind } from "./deps.js";
import { TAG_CLUSTER, type ProjectNames } from "./names.js";
import { observeInfra, type InfraObservation } from "./observe.js";
import { settle } from "./settle.js";

export type DestroyAction = "delete" | "deleted" | "absent";

export interface DestroyResource {
  kind: ResourceKind;
  name: string;
  action: DestroyAction;
  detail: string;
}

export interface DestroyResult {
  confirmed: boolean;
  changed: boolean;
  resources: DestroyResource[];
  /** Live instances of the project; while there are any, nothing is deleted. */
  instances: string[];
}

export async function infraDestroy(deps: InfraDeps, names: ProjectNames, options: { confirmed: boolean }): Promise<DestroyResult> {
  await requireRegion(deps); // a clear usage error rather than an SDK one when no region is set
  const seen = await observeInfra(deps, names);
  const groupId = seen.securityGroup.state === "present" ? seen.securityGroup.groupId : undefined;
  const [objects, instances] = await Promise.all([
    seen.bucket.state === "present" ? doing(`counting objects in ${names.bucket}`, () => countObjectVersions(deps.clients, names.bucket)) : 0,
    liveInstances(deps, names, groupId),
  ]);
  const listing = describe(names, seen, objects);
  const present = listing.filter((r) => r.action === "delete");
  if (!options.confirmed || instances.length > 0 || present.length === 0) {
    return { confirmed: options.confirmed, changed: false, resources: listing, instances };
  }
  const { clients, clock, log } = deps;
  const gone = (kind: ResourceKind) => log.info({ kind }, "deleted");
  if (seen.instanceProfile.state === "present") {
    const profile = { name: names.instanceProfile, arn: seen.instanceProfile.arn, roles: seen.instanceProfile.roles, tags: {} };
    await doing(`deleting instance profile ${profile.name}`, () => iam.deleteInstanceProfileCompletely(clients, profile));
    gone("instance-profile");
  }
  if (seen.role.state === "present") {
    // Also removes the inline worker policy, and any managed policy someone attached by hand.
    await doing(`deleting IAM role ${names.role}`, () => settle(clock, () => iam.deleteRoleCompletely(clients, names.role)));
    gone("role");
  }
  await destroyLoadBalancer(deps, names, seen);
  if (groupId) {
    await doing(`deleting security group ${names.securityGroup}`, () => settle(clock, () => ec2.deleteSecurityGroup(clients, groupId)));
    gone("security-group");
  }
  if (seen.apiKey.state === "present") {
    await doing(`deleting SSM parameter ${names.apiKeyParameter}`, () => ssm.deleteParameter(clients, names.apiKeyParameter));
    gone("api-key");
  }
  if (seen.bucket.state === "present") {
    await doing(`emptying and deleting bucket ${names.bucket}`, async () => {
      // The policy goes first: a Deny in it (ours, or one added later) could refuse the deletes, and
      // the bucket is going anyway. (moto, ignoring conditions, even applies the TLS-only Deny.)
      await deleteBucketPolicy(clients, names.bucket);
      await emptyBucket(clients, names.bucket);
      await deleteBucket(clients, names.bucket);
    });
    gone("bucket");
  }
  return {
    confirmed: true,
    changed: true,
    resources: listing.map((r) => (r.action === "delete" ? { ...r, action: "deleted" } : r)),
    instances,
  };
}

/** How long a deleted load balancer may take to let go of its network interfaces (AWS: usually < 1 min). */
const LOAD_BALANCER_GONE_MS = 5 * 60_000;

/**
 * Listeners, then the load balancer, then (once AWS reports it gone: its network interfaces hold
 * its group until then) the target group, the workers' rules naming the load balancer's group,
 * and that group.
 */
async function destroyLoadBalancer(deps: InfraDeps, names: ProjectNames, seen: InfraObservation): Promise<void> {
  const { clients, clock, log } = deps;
  const lb = seen.loadBalancer;
  if (lb.state === "present") {
    for (const listener of lb.listeners) {
      await doing(`deleting listener ${names.loadBalancer}:${listener.port}`, () => deleteListener(clients, listener.arn));
    }
    await doing(`deleting load balancer ${names.loadBalancer}`, async () => {
      await elbv2.deleteLoadBalancer(clients, lb.loadBalancer.arn);
      const waited = await pollUntil({ clock, deadlineMs: LOAD_BALANCER_GONE_MS, intervalMs: 2000, maxIntervalMs: 10_000 }, async () =>
        (await elbv2.findLoadBalancer(clients, names.loadBalancer)) ? { done: false, observed: "still there" } : { done: true, value: "gone" },
      );
      if (!waited.done) throw new Error(`load balancer ${names.loadBalancer} was still listed ${LOAD_BALANCER_GONE_MS / 60_000} minutes after its deletion`);
    });
    log.info({ kind: "load-balancer" }, "deleted");
  }
  if (seen.targetGroup.state === "present") {
    const arn = seen.targetGroup.targetGroup.arn;
    await doing(`deleting target group ${names.targetGroup}`, () => settle(deps.clock, () => elbv2.deleteTargetGroup(clients, arn)));
    log.info({ kind: "target-group" }, "deleted");
  }
  const lbGroup = seen.loadBalancerSecurityGroup;
  if (lbGroup.state !== "present") return;
  const workers = seen.securityGroup;
  const naming = workers.state === "present" ? workers.ingress.filter((r) => r.source.kind === "group" && r.source.groupId === lbGroup.groupId) : [];
  if (workers.state === "present" && naming.length > 0) {
    await doing(`revoking the rules of ${names.securityGroup} that admit ${names.loadBalancerSecurityGroup}`, () =>
      ec2.revokeIngress(clients, workers.groupId, naming),
    );
  }
  await doing(`deleting security group ${names.loadBalancerSecurityGroup}`, () => settle(clock, () => ec2.deleteSecurityGroup(clients, lbGroup.groupId)));
  log.info({ kind: "load-balancer-security-group" }, "deleted");
}

/** Instances tagged with the project, or using its group (tagged or not), in any state but terminated. */
async function liveInstances(deps: InfraDeps, names: ProjectNames, groupId: string | undefined): Promise<string[]> {
  return doing(`looking for instances of project ${names.project}`, async () => {
    const [tagged, inGroup] = await Promise.all([
      ec2.liveInstanceIds(deps.clients, [{ name: `tag:${TAG_CLUSTER}`, values: [names.project] }]),
      groupId ? ec2.liveInstanceIds(deps.clients, [{ name: "instance.group-id", values: [groupId] }]) : [],
    ]);
    return [...new Set([...tagged, ...inGroup])].sort();
  });
}

function describe(names: ProjectNames, seen: InfraObservation, objects: number): DestroyResource[] {
  const item = (kind: ResourceKind, name: string, exists: boolean, detail: string): DestroyResource => ({
    kind,
    name,
    action: exists ? "delete" : "absent",
    detail: exists ? detail : "does not exist",
  });
  const bucket = seen.bucket;
  const group = seen.securityGroup;
  const lb = seen.loadBalancer;
  const lbGroup = seen.loadBalancerSecurityGroup;
  return [
    bucket.state === "foreign"
      ? { kind: "bucket", name: names.bucket, action: "absent", detail: "answers 403 (another account's, or not readable with these credentials): not touched" }
      : item("bucket", names.bucket, bucket.state === "present", `bucket with ${objects} object${objects === 1 ? "" : "s"} (all versions)`),
    item("role", names.role, seen.role.state === "present", "IAM role for workers"),
    item("role-policy", `${names.role}/${names.workerPolicy}`, seen.rolePolicy.state === "present", "inline worker policy"),
    item(
      "instance-profile",
      names.instanceProfile,
      seen.instanceProfile.state === "present",
      seen.instanceProfile.state === "present" ? `instance profile holding ${seen.instanceProfile.roles.join(", ") || "no role"}` : "",
    ),
    ...(lb.state === "present"
      ? lb.listeners.map((l) => item("listener", `${names.loadBalancer}:${l.port}`, true, `${l.protocol} listener`))
      : []),
    item("load-balancer", names.loadBalancer, lb.state === "present", lb.state === "present" ? `${lb.loadBalancer.scheme}, ${lb.loadBalancer.dnsName}` : ""),
    item("target-group", names.targetGroup, seen.targetGroup.state === "present", "target group of the workers' vLLM port"),
    item(
      "load-balancer-security-group",
      names.loadBalancerSecurityGroup,
      lbGroup.state === "present",
      lbGroup.state === "present" ? `${lbGroup.groupId}, and the workers' group's rules admitting it` : "",
    ),
    item("security-group", names.securityGroup, group.state === "present", group.state === "present" ? `${group.groupId} in ${group.vpcId}` : ""),
    item("api-key", names.apiKeyParameter, seen.apiKey.state === "present", "SSM SecureString holding the API key"),
  ];
}
