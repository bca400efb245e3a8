import type { IngressRule } from "../aws/ec2.js";
import type { DesiredInfra } from "./desired.js";
import type { SecurityGroupObservation } from "./observe-security-group.js";
import { describeRule } from "./plan-security-group.js";
import { HTTP_PORT, HTTPS_PORT } from "./ports.js";
import { describeTags, missingTags, step, type CidrRule, type LoadBalancerSecurityGroupChange, type LoadBalancerSecurityGroupStep } from "./plan-types.js";

/**
 * Pure planner for the load balancer's security group. Its own rules are the record of who may call
 * the endpoint: the CIDRs it admits now, plus `--allow-cidr`, minus `--revoke-cidr`, each on every
 * listener port (80, and 443 with HTTPS). No CIDR by default: a new load balancer answers nobody
 * until the operator names who may call it. Any other rule (another port, a group, IPv6) is drift.
 */
export function planLoadBalancerSecurityGroup(
  want: DesiredInfra["loadBalancerSecurityGroup"],
  seen: SecurityGroupObservation,
  listenerPorts: number[],
): LoadBalancerSecurityGroupStep {
  if (seen.state === "no-default-vpc") {
    return step("load-balancer-security-group", want.name, false, [], {
      message: `region ${want.region} has no default VPC to put security group ${want.name} in`,
      remedy: `aws ec2 create-default-vpc --region ${want.region}`,
    });
  }
  const recorded = seen.state === "present" ? recordedCidrs(seen.ingress) : [];
  const cidrs = [...new Set([...recorded, ...want.allowCidrs])].filter((c) => !want.revokeCidrs.includes(c)).sort();
  const wanted: CidrRule[] = cidrs.flatMap((cidr) => listenerPorts.map((port) => ({ port, cidr })));
  if (seen.state === "missing") {
    const changes: LoadBalancerSecurityGroupChange[] = [{ op: "create-security-group", vpcId: seen.vpcId, reason: "does not exist" }];
    if (wanted.length > 0) changes.push({ op: "authorize-cidrs", rules: wanted, reason: `admit ${describeCidrs(wanted)}` });
    return step("load-balancer-security-group", want.name, false, changes);
  }
  const matches = (rule: IngressRule, r: CidrRule) =>
    rule.protocol === "tcp" && rule.fromPort === r.port && rule.toPort === r.port && rule.source.kind === "cidr" && rule.source.cidr === r.cidr;
  const changes: LoadBalancerSecurityGroupChange[] = [];
  const absent = wanted.filter((r) => !seen.ingress.some((rule) => matches(rule, r)));
  if (absent.length > 0) changes.push({ op: "authorize-cidrs", rules: absent, reason: `admit ${describeCidrs(absent)}` });
  const extra = seen.ingress.filter((rule) => !wanted.some((r) => matches(rule, r)));
  if (extra.length > 0) {
    changes.push({ op: "revoke-ingress", rules: extra, reason: `revoke ${extra.map((r) => describeRule(r, seen.groupId)).join(", ")}` });
  }
  const tags = missingTags(want.tags, seen.tags);
  if (Object.keys(tags).length > 0) changes.push({ op: "tag-security-group", tags, reason: `tag ${describeTags(tags)} missing` });
  return { ...step("load-balancer-security-group", want.name, true, changes), groupId: seen.groupId };
}

/** The IPv4 CIDRs the group admits on a listener port (either: a port added later inherits them). */
export function recordedCidrs(ingress: IngressRule[]): string[] {
  const ports: number[] = [HTTP_PORT, HTTPS_PORT];
  const onListener = (rule: IngressRule) =>
    rule.protocol === "tcp" && rule.fromPort !== undefined && rule.fromPort === rule.toPort && ports.includes(rule.fromPort);
  return [...new Set(ingress.filter(onListener).flatMap((rule) => (rule.source.kind === "cidr" ? [rule.source.cidr] : [])))].sort();
}

function describeCidrs(rules: CidrRule[]): string {
  const byCidr = new Map<string, number[]>();
  for (const r of rules) byCidr.set(r.cidr, [...(byCidr.get(r.cidr) ?? []), r.port]);
  return [...byCidr].map(([cidr, ports]) => `${cidr} on tcp ${ports.join(", ")}`).join("; ");
}
