/**
 * What the load balancer stand-in learns from moto's ELBv2: the load balancers, and for one of them
 * the listener's target group, its settings, its attributes and its registered targets. moto keeps
 * all of these but acts on none (it routes nothing and calls every target healthy); the stand-in
 * acts on them. Read straight from moto, never through a fault proxy: faults are for the code under
 * test, not for the machinery playing the cloud.
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type Listener,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { sdkConfigFor } from "../moto.js";
import type { RegisteredTarget } from "./targets.js";

export interface LoadBalancerSummary {
  arn: string;
  name: string;
  dnsName: string;
}

export interface TargetGroupSettings {
  arn: string;
  name: string;
  /** The traffic port (targets registered without a port use it). */
  port: number;
  healthCheck: {
    path: string;
    /** A port number, or "traffic-port" (the target's own port). */
    port: number | "traffic-port";
    intervalSeconds: number;
    timeoutSeconds: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    matcher: string;
  };
  deregistrationDelaySeconds: number;
  algorithm: string;
}

/** One load balancer as the stand-in needs it; no target group while it has no forwarding listener. */
export interface LoadBalancerView {
  targetGroup?: TargetGroupSettings;
  targets: RegisteredTarget[];
}

/** Where a stand-in learns its load balancer from: moto, or a test's own function. */
export type LoadBalancerSource = () => Promise<LoadBalancerView>;

/** The HTTP listener's forward target first (the stand-in speaks plain HTTP), else any listener's. */
function forwardedGroup(listeners: Listener[]): string | undefined {
  const ordered = [...listeners].sort((a, b) => Number(b.Protocol === "HTTP") - Number(a.Protocol === "HTTP"));
  for (const listener of ordered) {
    for (const action of listener.DefaultActions ?? []) {
      if (action.Type !== "forward") continue;
      const arn = action.TargetGroupArn ?? action.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
      if (arn) return arn;
    }
  }
  return undefined;
}

export class MotoElbv2 {
  private readonly client: ElasticLoadBalancingV2Client;

  constructor(motoUrl: string, region = "us-east-1") {
    // One attempt, short timeouts: the next poll is the retry, and a stopped moto must not hang us.
    this.client = new ElasticLoadBalancingV2Client({ ...sdkConfigFor(motoUrl, { region }), maxAttempts: 1, requestHandler: { requestTimeout: 5000, connectionTimeout: 2000 } });
  }

  async loadBalancers(): Promise<LoadBalancerSummary[]> {
    const found: LoadBalancerSummary[] = [];
    let marker: string | undefined;
    do {
      const page = await this.client.send(new DescribeLoadBalancersCommand({ Marker: marker }));
      for (const lb of page.LoadBalancers ?? []) {
        if (lb.LoadBalancerArn && lb.Type !== "network" && lb.Type !== "gateway") found.push({ arn: lb.LoadBalancerArn, name: lb.LoadBalancerName ?? "", dnsName: lb.DNSName ?? "" });
      }
      marker = page.NextMarker;
    } while (marker);
    return found;
  }

  /** A source for one load balancer's stand-in. */
  source(loadBalancerArn: string): LoadBalancerSource {
    return () => this.view(loadBalancerArn);
  }

  async view(loadBalancerArn: string): Promise<LoadBalancerView> {
    const listeners = (await this.client.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }))).Listeners ?? [];
    const groupArn = forwardedGroup(listeners);
    if (!groupArn) return { targets: [] };
    const [groups, attributes, health] = await Promise.all([
      this.client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [groupArn] })),
      this.client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: groupArn })),
      this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn })),
    ]);
    const group = groups.TargetGroups?.[0];
    if (!group) return { targets: [] };
    const attribute = (key: string) => attributes.Attributes?.find((a) => a.Key === key)?.Value;
    const port = group.Port ?? 80;
    // AWS's defaults for an HTTP target group stand in for anything moto leaves out.
    const targetGroup: TargetGroupSettings = {
      arn: groupArn,
      name: group.TargetGroupName ?? "",
      port,
      healthCheck: {
        path: group.HealthCheckPath ?? "/",
        port: !group.HealthCheckPort || group.HealthCheckPort === "traffic-port" ? "traffic-port" : Number(group.HealthCheckPort),
        intervalSeconds: group.HealthCheckIntervalSeconds ?? 30,
        timeoutSeconds: group.HealthCheckTimeoutSeconds ?? 5,
        healthyThreshold: group.HealthyThresholdCount ?? 5,
        unhealthyThreshold: group.UnhealthyThresholdCount ?? 2,
        matcher: group.Matcher?.HttpCode ?? "200",
      },
      deregistrationDelaySeconds: Number(attribute("deregistration_delay.timeout_seconds") ?? 300),
      algorithm: attribute("load_balancing.algorithm.type") ?? "round_robin",
    };
    // moto answers "draining" for a terminated instance's target asked by id; should a listing ever
    // show one draining (or unused), it counts as deregistered: the stand-in drains it itself.
    const registered = (health.TargetHealthDescriptions ?? []).filter((d) => d.Target?.Id && d.TargetHealth?.State !== "draining" && d.TargetHealth?.State !== "unused");
    const targets = registered.map((d) => ({ instanceId: d.Target!.Id!, port: d.Target!.Port ?? port }));
    return { targetGroup, targets };
  }

  close(): void {
    this.client.destroy();
  }
}
