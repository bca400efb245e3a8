import type { ListenerInfo } from "../aws/elbv2-listeners.js";
import type { HealthCheck } from "../aws/elbv2.js";
import type { DesiredInfra } from "./desired.js";
import { REDIRECT_STATUS } from "./load-balancer-settings.js";
import type { ApiKeyObservation, LoadBalancerObservation, TargetGroupObservation } from "./observe-load-balancer.js";
import { HTTP_PORT, HTTPS_PORT } from "./ports.js";
import {
  describeTags,
  missingTags,
  step,
  type ApiKeyStep,
  type ListenerChange,
  type ListenerStep,
  type ListenerWant,
  type LoadBalancerChange,
  type LoadBalancerStep,
  type TargetGroupChange,
  type TargetGroupStep,
} from "./plan-types.js";

/** Pure planners for the target group, the load balancer, its listeners and the API key. */

/** Attributes (a string map in AWS) that differ from the wanted ones; others' are left alone. */
function attributeDrift(want: Record<string, string>, have: Record<string, string>): string[] {
  return Object.entries(want)
    .filter(([key, value]) => have[key] !== value)
    .map(([key, value]) => `${key} is ${have[key] ?? "unset"}, want ${value}`);
}

const HEALTH_FIELDS: Array<keyof HealthCheck> = ["protocol", "path", "port", "intervalSeconds", "timeoutSeconds", "healthyThreshold", "unhealthyThreshold", "matcher"];

export function planTargetGroup(want: DesiredInfra["targetGroup"], seen: TargetGroupObservation, project: string): TargetGroupStep {
  if (seen.state === "missing") {
    if (!seen.vpcId) {
      return step("target-group", want.name, false, [], { message: "the region has no default VPC for the target group", remedy: "aws ec2 create-default-vpc" });
    }
    return step<"target-group", TargetGroupChange>("target-group", want.name, false, [
      { op: "create-target-group", vpcId: seen.vpcId, reason: "does not exist" },
      { op: "set-target-group-attributes", reason: "new target group" },
    ]);
  }
  const tg = seen.targetGroup;
  // Protocol, port and target type cannot change in place: only a new target group has them.
  const fixed = [
    tg.protocol !== want.protocol ? `protocol ${tg.protocol}` : "",
    tg.port !== want.port ? `port ${tg.port}` : "",
    tg.targetType !== want.targetType ? `target type ${tg.targetType}` : "",
  ].filter(Boolean);
  if (fixed.length > 0) {
    return step("target-group", want.name, true, [], {
      message: `target group ${want.name} has ${fixed.join(", ")} (want ${want.protocol} ${want.port}, ${want.targetType}), which cannot be changed in place`,
      remedy: `aws elbv2 delete-target-group --target-group-arn ${tg.arn}   # after its listeners; then synkti infra up --project-name ${project}`,
    });
  }
  const changes: TargetGroupChange[] = [];
  const health = HEALTH_FIELDS.filter((f) => String(tg.healthCheck[f]) !== String(want.healthCheck[f])).map(
    (f) => `health check ${f} is ${tg.healthCheck[f] || "unset"}, want ${want.healthCheck[f]}`,
  );
  if (health.length > 0) changes.push({ op: "modify-health-check", reason: health.join(", ") });
  const attributes = attributeDrift(want.attributes, tg.attributes);
  if (attributes.length > 0) changes.push({ op: "set-target-group-attributes", reason: attributes.join(", ") });
  const tags = missingTags(want.tags, tg.tags);
  if (Object.keys(tags).length > 0) changes.push({ op: "tag-target-group", tags, reason: `tag ${describeTags(tags)} missing` });
  return { ...step("target-group", want.name, true, changes), arn: tg.arn };
}

/**
 * The load balancer: created in every zone with a default subnet (ALB needs at least two), so a
 * worker launched in any zone is reachable. Its scheme is its URL: changing it means a new load
 * balancer and a new DNS name for every client, so `infra up` refuses and says how.
 */
export function planLoadBalancer(
  want: DesiredInfra["loadBalancer"],
  seen: LoadBalancerObservation,
  loadBalancerGroupId: string | undefined,
): LoadBalancerStep {
  const zones = Object.keys(seen.defaultSubnets).sort();
  if (seen.state === "missing") {
    if (zones.length < 2) {
      return step("load-balancer", want.name, false, [], {
        message: `an Application Load Balancer needs default subnets in at least two zones; the default VPC has ${zones.length} (${zones.join(", ") || "none"})`,
        remedy: "aws ec2 create-default-subnet --availability-zone <zone>",
      });
    }
    const scheme = want.scheme ?? "internet-facing";
    return step<"load-balancer", LoadBalancerChange>("load-balancer", want.name, false, [
      { op: "create-load-balancer", scheme, subnetIds: zones.map((z) => seen.defaultSubnets[z]!), reason: `does not exist (${scheme}, zones ${zones.join(", ")})` },
      { op: "set-load-balancer-attributes", reason: "new load balancer" },
    ]);
  }
  const lb = seen.loadBalancer;
  if (lb.type !== "application") {
    return step("load-balancer", want.name, true, [], {
      message: `load balancer ${want.name} is a ${lb.type} load balancer, not an application load balancer`,
      remedy: `aws elbv2 delete-load-balancer --load-balancer-arn ${lb.arn}   # then synkti infra up --project-name ${want.project}`,
    });
  }
  if (want.scheme && want.scheme !== lb.scheme) {
    const keep = lb.scheme === "internal" ? "--internal" : "--no-internal";
    const wanted = want.scheme === "internal" ? "--internal" : "--no-internal";
    return step("load-balancer", want.name, true, [], {
      message: `load balancer ${want.name} is ${lb.scheme}; making it ${want.scheme} means a new load balancer with a new URL (today ${lb.dnsName}), so infra up will not do it (run with ${keep}, or without the flag, to keep it)`,
      remedy: `aws elbv2 delete-load-balancer --load-balancer-arn ${lb.arn}   # clients lose the old URL; then synkti infra up --project-name ${want.project} ${wanted}`,
    });
  }
  const changes: LoadBalancerChange[] = [];
  const attributes = attributeDrift(want.attributes, lb.attributes);
  if (attributes.length > 0) changes.push({ op: "set-load-balancer-attributes", reason: attributes.join(", ") });
  if (!loadBalancerGroupId || lb.securityGroups.length !== 1 || lb.securityGroups[0] !== loadBalancerGroupId) {
    changes.push({ op: "set-security-groups", reason: `security groups are ${lb.securityGroups.join(", ") || "none"}, want only the load balancer's group` });
  }
  const newZones = zones.filter((z) => !(z in lb.zones));
  if (newZones.length > 0) {
    const subnetIds = [...Object.values(lb.zones), ...newZones.map((z) => seen.defaultSubnets[z]!)];
    changes.push({ op: "set-subnets", subnetIds, reason: `not enabled in ${newZones.join(", ")}, where workers may run` });
  }
  const tags = missingTags(want.tags, lb.tags);
  if (Object.keys(tags).length > 0) changes.push({ op: "tag-load-balancer", tags, reason: `tag ${describeTags(tags)} missing` });
  return { ...step("load-balancer", want.name, true, changes), arn: lb.arn };
}

/**
 * The listeners wanted: with a certificate (given now, or kept from an existing HTTPS listener),
 * HTTPS:443 forwards and HTTP:80 redirects to it (the key never travels in clear); without, HTTP:80
 * forwards.
 */
export function wantedListeners(want: DesiredInfra["listeners"], seen: LoadBalancerObservation): ListenerWant[] {
  const existing = seen.state === "present" ? seen.listeners.find((l) => l.port === HTTPS_PORT && l.protocol === "HTTPS") : undefined;
  const certificateArn = want.certificateArn ?? existing?.certificateArn;
  if (!certificateArn) return [{ port: HTTP_PORT, protocol: "HTTP", action: "forward" }];
  return [
    { port: HTTP_PORT, protocol: "HTTP", action: "redirect-https" },
    { port: HTTPS_PORT, protocol: "HTTPS", action: "forward", certificateArn },
  ];
}

export function planListeners(
  want: DesiredInfra["listeners"],
  seen: LoadBalancerObservation,
  targetGroupArn: string | undefined,
): ListenerStep[] {
  return wantedListeners(want, seen).map((listener) => {
    const name = `${want.loadBalancerName}:${listener.port}`;
    const have = seen.state === "present" ? seen.listeners.find((l) => l.port === listener.port) : undefined;
    if (!have) return step<"listener", ListenerChange>("listener", name, false, [{ op: "create-listener", listener, reason: `${describeListener(listener)}: does not exist` }]);
    const drift = listenerDrift(listener, have, targetGroupArn);
    if (!drift) return step<"listener", ListenerChange>("listener", name, true, []);
    return step<"listener", ListenerChange>("listener", name, true, [{ op: "modify-listener", listenerArn: have.arn, listener, reason: `${drift}; want ${describeListener(listener)}` }]);
  });
}

function listenerDrift(want: ListenerWant, have: ListenerInfo, targetGroupArn: string | undefined): string | undefined {
  if (have.protocol !== want.protocol) return `protocol is ${have.protocol}`;
  if (want.action === "forward") {
    if (have.action.type !== "forward" || have.action.targetGroupArn !== targetGroupArn) return `default action is not a forward to the target group`;
  } else if (have.action.type !== "redirect-https" || have.action.port !== String(HTTPS_PORT) || have.action.statusCode !== REDIRECT_STATUS) {
    return "default action is not a redirect to HTTPS";
  }
  if (want.certificateArn && have.certificateArn !== want.certificateArn) return `certificate is ${have.certificateArn ?? "none"}`;
  return undefined;
}

function describeListener(l: ListenerWant): string {
  return `${l.protocol}:${l.port} ${l.action === "forward" ? "forwards to the target group" : "redirects to HTTPS:443"}`;
}

/**
 * The key is created once and never replaced by a re-run (workers and clients hold it). A String
 * parameter under its name would keep the key in clear: refused, with the fix.
 */
export function planApiKey(want: DesiredInfra["apiKey"], seen: ApiKeyObservation, project: string): ApiKeyStep {
  if (seen.state === "missing") return step("api-key", want.name, false, [{ op: "create-api-key", reason: "does not exist (a new random key)" }]);
  if (seen.type !== "SecureString") {
    return step("api-key", want.name, true, [], {
      message: `SSM parameter ${want.name} is a ${seen.type}, not a SecureString: the key would be stored unencrypted`,
      remedy: `aws ssm delete-parameter --name ${want.name}   # then synkti infra up --project-name ${project} (a new key)`,
    });
  }
  return step("api-key", want.name, true, []);
}
