/**
 * The narrow EC2 calls for the project's security group, in plain shapes: one ingress rule has
 * exactly one source and its own id (DescribeSecurityGroupRules), so rules compare and revoke one
 * by one.
 */
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import type { AwsClients } from "./clients.js";
import { LIVE_STATES } from "./instance-states.js";
import { fromPairs, opts, toPairs } from "./shapes.js";

export type RuleSource =
  | { kind: "group"; groupId: string }
  | { kind: "cidr"; cidr: string }
  | { kind: "ipv6"; cidr: string }
  | { kind: "prefix-list"; id: string };

export interface IngressRule {
  /** "tcp", "udp", "icmp" or "-1" (all). */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  source: RuleSource;
  description?: string;
  /** AWS's id of an existing rule (sgr-...): revoking by id matches exactly that rule. */
  ruleId?: string;
}

export interface SecurityGroupInfo {
  groupId: string;
  vpcId: string;
  ingress: IngressRule[];
  tags: Record<string, string>;
}

const sdk = () => import("@aws-sdk/client-ec2");


export async function defaultVpcId(clients: AwsClients, signal?: AbortSignal): Promise<string | undefined> {
  const [{ DescribeVpcsCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  const out = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }), opts(signal));
  return out.Vpcs?.[0]?.VpcId;
}

/** One rule as DescribeSecurityGroupRules reports it: exactly one source, with its own id. */
function fromRule(rule: SecurityGroupRule): IngressRule {
  const source: RuleSource = rule.ReferencedGroupInfo?.GroupId
    ? { kind: "group", groupId: rule.ReferencedGroupInfo.GroupId }
    : rule.CidrIpv4
      ? { kind: "cidr", cidr: rule.CidrIpv4 }
      : rule.CidrIpv6
        ? { kind: "ipv6", cidr: rule.CidrIpv6 }
        : { kind: "prefix-list", id: rule.PrefixListId ?? "" };
  return {
    protocol: rule.IpProtocol ?? "-1",
    ...(rule.FromPort !== undefined ? { fromPort: rule.FromPort } : {}),
    ...(rule.ToPort !== undefined ? { toPort: rule.ToPort } : {}),
    source,
    ...(rule.Description ? { description: rule.Description } : {}),
    ...(rule.SecurityGroupRuleId ? { ruleId: rule.SecurityGroupRuleId } : {}),
  };
}

/** The IpPermission form Authorize takes. */
function toPermission(rule: IngressRule) {
  const d = rule.description ? { Description: rule.description } : {};
  const s = rule.source;
  return {
    IpProtocol: rule.protocol,
    FromPort: rule.fromPort,
    ToPort: rule.toPort,
    ...(s.kind === "group" ? { UserIdGroupPairs: [{ GroupId: s.groupId, ...d }] } : {}),
    ...(s.kind === "cidr" ? { IpRanges: [{ CidrIp: s.cidr, ...d }] } : {}),
    ...(s.kind === "ipv6" ? { Ipv6Ranges: [{ CidrIpv6: s.cidr, ...d }] } : {}),
    ...(s.kind === "prefix-list" ? { PrefixListIds: [{ PrefixListId: s.id, ...d }] } : {}),
  };
}

export async function findSecurityGroup(clients: AwsClients, vpcId: string, name: string, signal?: AbortSignal): Promise<SecurityGroupInfo | undefined> {
  const [{ DescribeSecurityGroupsCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "group-name", Values: [name] }] }),
    opts(signal),
  );
  const group = out.SecurityGroups?.[0];
  if (!group?.GroupId) return undefined;
  return {
    groupId: group.GroupId,
    vpcId: group.VpcId ?? vpcId,
    ingress: await ingressRules(clients, group.GroupId, signal),
    tags: fromPairs(group.Tags),
  };
}

/** The group's inbound rules, one per source, each with its rule id (follows NextToken). */
async function ingressRules(clients: AwsClients, groupId: string, signal?: AbortSignal): Promise<IngressRule[]> {
  const [{ DescribeSecurityGroupRulesCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  const rules: IngressRule[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }], NextToken }),
      opts(signal),
    );
    for (const rule of out.SecurityGroupRules ?? []) if (!rule.IsEgress) rules.push(fromRule(rule));
    NextToken = out.NextToken;
  } while (NextToken);
  return rules;
}

/** Creates the group with its tags in the same call, so it is never seen untagged. */
export async function createSecurityGroup(
  clients: AwsClients,
  group: { vpcId: string; name: string; description: string; tags: Record<string, string> },
): Promise<string> {
  const [{ CreateSecurityGroupCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  const out = await ec2.send(
    new CreateSecurityGroupCommand({
      VpcId: group.vpcId,
      GroupName: group.name,
      Description: group.description,
      TagSpecifications: [{ ResourceType: "security-group", Tags: toPairs(group.tags) }],
    }),
  );
  return out.GroupId ?? "";
}

export async function authorizeIngress(clients: AwsClients, groupId: string, rules: IngressRule[]): Promise<void> {
  const [{ AuthorizeSecurityGroupIngressCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(toPermission) }));
}

/** Revokes observed rules by their ids: exact, whatever their descriptions say. */
export async function revokeIngress(clients: AwsClients, groupId: string, rules: IngressRule[]): Promise<void> {
  const [{ RevokeSecurityGroupIngressCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  const ids = rules.map((rule) => rule.ruleId).filter((id): id is string => id !== undefined);
  if (ids.length !== rules.length) throw new Error("revokeIngress needs observed rules (with their rule ids)");
  await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ids }));
}

export async function tagResource(clients: AwsClients, resourceId: string, tags: Record<string, string>): Promise<void> {
  const [{ CreateTagsCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  await ec2.send(new CreateTagsCommand({ Resources: [resourceId], Tags: toPairs(tags) }));
}

export async function deleteSecurityGroup(clients: AwsClients, groupId: string): Promise<void> {
  const [{ DeleteSecurityGroupCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
}

/** Ids of instances (any state but terminated) matching all filters; follows NextToken. */
export async function liveInstanceIds(
  clients: AwsClients,
  filters: Array<{ name: string; values: string[] }>,
  signal?: AbortSignal,
): Promise<string[]> {
  const [{ DescribeInstancesCommand }, ec2] = await Promise.all([sdk(), clients.ec2()]);
  const Filters = [...filters.map((f) => ({ Name: f.name, Values: f.values })), { Name: "instance-state-name", Values: [...LIVE_STATES] }];
  const ids: string[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(new DescribeInstancesCommand({ Filters, NextToken }), opts(signal));
    for (const reservation of out.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) if (instance.InstanceId) ids.push(instance.InstanceId);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return ids;
}
