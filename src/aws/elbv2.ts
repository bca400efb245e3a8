/**
 * The narrow ELBv2 calls for the project's load balancer and target group, in plain shapes (the
 * listeners: ./elbv2-listeners.ts; the targets: ./elbv2-targets.ts). Absent things answer
 * `undefined`. Attributes are plain string maps, as AWS keeps them.
 */
import type { LoadBalancer, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import { orAbsent } from "./absent.js";
import type { AwsClients } from "./clients.js";
import { fromPairs, opts, toPairs } from "./shapes.js";

export interface LoadBalancerInfo {
  arn: string;
  name: string;
  dnsName: string;
  scheme: string;
  type: string;
  state: string;
  vpcId: string;
  securityGroups: string[];
  /** Zone -> subnet the load balancer is enabled in. */
  zones: Record<string, string>;
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export interface HealthCheck {
  protocol: string;
  path: string;
  port: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  matcher: string;
}

export interface TargetGroupInfo {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  targetType: string;
  vpcId: string;
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

const sdk = () => import("@aws-sdk/client-elastic-load-balancing-v2");

async function tagsOf(clients: AwsClients, arn: string, signal?: AbortSignal): Promise<Record<string, string>> {
  const [{ DescribeTagsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const out = await elb.send(new DescribeTagsCommand({ ResourceArns: [arn] }), opts(signal));
  return fromPairs(out.TagDescriptions?.[0]?.Tags);
}

function toLoadBalancer(lb: LoadBalancer, attributes: Record<string, string>, tags: Record<string, string>): LoadBalancerInfo {
  return {
    arn: lb.LoadBalancerArn ?? "",
    name: lb.LoadBalancerName ?? "",
    dnsName: lb.DNSName ?? "",
    scheme: lb.Scheme ?? "",
    type: lb.Type ?? "",
    state: lb.State?.Code ?? "",
    vpcId: lb.VpcId ?? "",
    securityGroups: lb.SecurityGroups ?? [],
    zones: Object.fromEntries((lb.AvailabilityZones ?? []).map((z) => [z.ZoneName ?? "", z.SubnetId ?? ""])),
    attributes,
    tags,
  };
}

export async function findLoadBalancer(clients: AwsClients, name: string, signal?: AbortSignal): Promise<LoadBalancerInfo | undefined> {
  const [{ DescribeLoadBalancersCommand, DescribeLoadBalancerAttributesCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const lb = await orAbsent(["LoadBalancerNotFound", "LoadBalancerNotFoundException"], async () => {
    const out = await elb.send(new DescribeLoadBalancersCommand({ Names: [name] }), opts(signal));
    return out.LoadBalancers?.[0];
  });
  if (!lb?.LoadBalancerArn) return undefined;
  const [attributes, tags] = await Promise.all([
    elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.LoadBalancerArn }), opts(signal)).then((o) => fromPairs(o.Attributes)),
    tagsOf(clients, lb.LoadBalancerArn, signal),
  ]);
  return toLoadBalancer(lb, attributes, tags);
}

export async function createLoadBalancer(
  clients: AwsClients,
  spec: { name: string; scheme: string; subnetIds: string[]; securityGroupId: string; tags: Record<string, string> },
): Promise<string> {
  const [{ CreateLoadBalancerCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const out = await elb.send(
    new CreateLoadBalancerCommand({
      Name: spec.name,
      Type: "application",
      Scheme: spec.scheme as "internet-facing" | "internal",
      IpAddressType: "ipv4",
      Subnets: spec.subnetIds,
      SecurityGroups: [spec.securityGroupId],
      Tags: toPairs(spec.tags),
    }),
  );
  return out.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
}

export async function setLoadBalancerAttributes(clients: AwsClients, arn: string, attributes: Record<string, string>): Promise<void> {
  const [{ ModifyLoadBalancerAttributesCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes: toPairs(attributes) }));
}

export async function setSecurityGroups(clients: AwsClients, arn: string, groupIds: string[]): Promise<void> {
  const [{ SetSecurityGroupsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new SetSecurityGroupsCommand({ LoadBalancerArn: arn, SecurityGroups: groupIds }));
}

export async function setSubnets(clients: AwsClients, arn: string, subnetIds: string[]): Promise<void> {
  const [{ SetSubnetsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new SetSubnetsCommand({ LoadBalancerArn: arn, Subnets: subnetIds }));
}

export async function addTags(clients: AwsClients, arn: string, tags: Record<string, string>): Promise<void> {
  const [{ AddTagsCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: toPairs(tags) }));
}

export async function deleteLoadBalancer(clients: AwsClients, arn: string): Promise<void> {
  const [{ DeleteLoadBalancerCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }));
}

function toHealthCheck(tg: TargetGroup): HealthCheck {
  return {
    protocol: tg.HealthCheckProtocol ?? "",
    path: tg.HealthCheckPath ?? "",
    port: tg.HealthCheckPort ?? "",
    intervalSeconds: tg.HealthCheckIntervalSeconds ?? 0,
    timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? 0,
    healthyThreshold: tg.HealthyThresholdCount ?? 0,
    unhealthyThreshold: tg.UnhealthyThresholdCount ?? 0,
    matcher: tg.Matcher?.HttpCode ?? "",
  };
}

export async function findTargetGroup(clients: AwsClients, name: string, signal?: AbortSignal): Promise<TargetGroupInfo | undefined> {
  const [{ DescribeTargetGroupsCommand, DescribeTargetGroupAttributesCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const tg = await orAbsent(["TargetGroupNotFound", "TargetGroupNotFoundException"], async () => {
    const out = await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }), opts(signal));
    return out.TargetGroups?.[0];
  });
  if (!tg?.TargetGroupArn) return undefined;
  const arn = tg.TargetGroupArn;
  const [attributes, tags] = await Promise.all([
    elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }), opts(signal)).then((o) => fromPairs(o.Attributes)),
    tagsOf(clients, arn, signal),
  ]);
  return {
    arn,
    name,
    protocol: tg.Protocol ?? "",
    port: tg.Port ?? 0,
    targetType: tg.TargetType ?? "",
    vpcId: tg.VpcId ?? "",
    healthCheck: toHealthCheck(tg),
    attributes,
    tags,
  };
}

const healthCheckInput = (h: HealthCheck) => ({
  HealthCheckEnabled: true,
  HealthCheckProtocol: h.protocol as "HTTP",
  HealthCheckPath: h.path,
  HealthCheckPort: h.port,
  HealthCheckIntervalSeconds: h.intervalSeconds,
  HealthCheckTimeoutSeconds: h.timeoutSeconds,
  HealthyThresholdCount: h.healthyThreshold,
  UnhealthyThresholdCount: h.unhealthyThreshold,
  Matcher: { HttpCode: h.matcher },
});

export async function createTargetGroup(
  clients: AwsClients,
  spec: { name: string; protocol: string; port: number; targetType: string; vpcId: string; healthCheck: HealthCheck; tags: Record<string, string> },
): Promise<string> {
  const [{ CreateTargetGroupCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  const out = await elb.send(
    new CreateTargetGroupCommand({
      Name: spec.name,
      Protocol: spec.protocol as "HTTP",
      Port: spec.port,
      TargetType: spec.targetType as "instance",
      VpcId: spec.vpcId,
      ...healthCheckInput(spec.healthCheck),
      Tags: toPairs(spec.tags),
    }),
  );
  return out.TargetGroups?.[0]?.TargetGroupArn ?? "";
}

export async function modifyHealthCheck(clients: AwsClients, arn: string, healthCheck: HealthCheck): Promise<void> {
  const [{ ModifyTargetGroupCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...healthCheckInput(healthCheck) }));
}

export async function setTargetGroupAttributes(clients: AwsClients, arn: string, attributes: Record<string, string>): Promise<void> {
  const [{ ModifyTargetGroupAttributesCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: toPairs(attributes) }));
}

export async function deleteTargetGroup(clients: AwsClients, arn: string): Promise<void> {
  const [{ DeleteTargetGroupCommand }, elb] = await Promise.all([sdk(), clients.elbv2()]);
  await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
}
