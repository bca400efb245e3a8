import type { IngressRule } from "../aws/ec2.js";
import type { DesiredInfra, IngressSpec } from "./desired.js";
import type { SecurityGroupObservation } from "./observe-security-group.js";
import { describeTags, missingTags, step, type SecurityGroupChange, type SecurityGroupStep } from "./plan-types.js";

/**
 * Pure planner for the workers' security group. Its ingress is synkti's whole: exactly the peer
 * rules (self-referencing, tcp, one port each) and the same ports from the load balancer's group.
 * Anything else, e.g. a port opened to 0.0.0.0/0 or SSH, is drift and gets revoked: the group is
 * the boundary that keeps vLLM off the internet (the load balancer, with its key and its CIDRs,
 * is the only way in).
 */
export function planSecurityGroup(want: DesiredInfra["securityGroup"], seen: SecurityGroupObservation): SecurityGroupStep {
  if (seen.state === "no-default-vpc") {
    return step("security-group", want.name, false, [], {
      message: `region ${want.region} has no default VPC to put security group ${want.name} in`,
      remedy: `aws ec2 create-default-vpc --region ${want.region}`,
    });
  }
  if (seen.state === "missing") {
    return step<"security-group", SecurityGroupChange>("security-group", want.name, false, [
      { op: "create-security-group", vpcId: seen.vpcId, reason: "does not exist" },
      { op: "authorize-ingress", rules: want.ingress, reason: `peers and load balancer only: ${want.ingress.map(describeSpec).join(", ")}` },
    ]);
  }
  const groupId = seen.groupId;
  const lbGroupId = seen.loadBalancerGroupId;
  const matches = (rule: IngressRule, spec: IngressSpec) =>
    rule.protocol === spec.protocol &&
    rule.fromPort === spec.port &&
    rule.toPort === spec.port &&
    rule.source.kind === "group" &&
    rule.source.groupId === (spec.source === "self" ? groupId : lbGroupId);
  const changes: SecurityGroupChange[] = [];
  const absent = want.ingress.filter((spec) => !seen.ingress.some((rule) => matches(rule, spec)));
  if (absent.length > 0) changes.push({ op: "authorize-ingress", rules: absent, reason: `missing ${absent.map(describeSpec).join(", ")}` });
  const extra = seen.ingress.filter((rule) => !want.ingress.some((spec) => matches(rule, spec)));
  if (extra.length > 0) {
    changes.push({ op: "revoke-ingress", rules: extra, reason: `not allowed: ${extra.map((r) => describeRule(r, groupId)).join(", ")}` });
  }
  const tags = missingTags(want.tags, seen.tags);
  if (Object.keys(tags).length > 0) changes.push({ op: "tag-security-group", tags, reason: `tag ${describeTags(tags)} missing` });
  return { ...step("security-group", want.name, true, changes), groupId };
}

function describeSpec(spec: IngressSpec): string {
  return `${spec.protocol} ${spec.port} from ${spec.source === "self" ? "the group itself" : "the load balancer's group"}`;
}

export function describeRule(rule: IngressRule, ownGroupId?: string): string {
  const ports =
    rule.protocol === "-1"
      ? "all traffic"
      : `${rule.protocol} ${rule.fromPort === rule.toPort ? rule.fromPort : `${rule.fromPort}-${rule.toPort}`}`;
  const s = rule.source;
  const from =
    s.kind === "group" ? (s.groupId === ownGroupId ? "the group itself" : s.groupId) : s.kind === "prefix-list" ? s.id : s.cidr;
  return `${ports} from ${from}`;
}
