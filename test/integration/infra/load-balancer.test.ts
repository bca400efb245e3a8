/**
 * The load balancer's permanent resources against moto. moto stores what AWS would (attributes,
 * health check settings, listeners' default actions, SecureStrings) but routes nothing, validates
 * no certificate and deletes a load balancer at once: these tests prove what infra up asks for and
 * keeps, not traffic (the local cloud's load balancer stand-in does that).
 */
import { Writable } from "node:stream";
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/core/log.js";
import { infraDestroy, infraStatus, infraUp, observeInfra, type LoadBalancerOptions } from "../../../src/infra/index.js";
import type { ProjectNames } from "../../../src/infra/names.js";
import { startFaultProxy } from "../../support/fault-proxy.js";
import { sdkConfigFor } from "../../support/moto.js";
import { startInfraHarness, type InfraHarness } from "./harness.js";

let h: InfraHarness;
let elb: ElasticLoadBalancingV2Client;
let ssm: SSMClient;
beforeAll(async () => {
  h = await startInfraHarness();
  elb = new ElasticLoadBalancingV2Client({ ...sdkConfigFor(h.moto.url), maxAttempts: 1 });
  ssm = new SSMClient({ ...sdkConfigFor(h.moto.url), maxAttempts: 1 });
  CERT = await requestCertificate(h.moto.url);
});
afterAll(async () => {
  elb?.destroy();
  ssm?.destroy();
  await h?.close();
});

let CERT = "";
/** An ACM certificate in moto (the SDK's ACM client is not a dependency: one JSON call does). */
async function requestCertificate(url: string): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "CertificateManager.RequestCertificate",
      Authorization: "AWS4-HMAC-SHA256 Credential=testing/20261129/us-east-1/acm/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify({ DomainName: "llm.example.com" }),
  });
  return ((await response.json()) as { CertificateArn: string }).CertificateArn;
}
const up = (names: ProjectNames, loadBalancer: LoadBalancerOptions = {}) => infraUp(h.deps(), names, { loadBalancer });
const attrs = (list?: Array<{ Key?: string; Value?: string }>) => Object.fromEntries((list ?? []).map((a) => [a.Key, a.Value]));

async function lbGroupRules(names: ProjectNames) {
  const group = (await h.ec2().send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [names.loadBalancerSecurityGroup] }] })))
    .SecurityGroups?.[0];
  return {
    groupId: group?.GroupId,
    rules: (group?.IpPermissions ?? []).flatMap((p) => (p.IpRanges ?? []).map((r) => `${r.CidrIp}:${p.FromPort}`)).sort(),
  };
}

describe("infra up: the load balancer against moto", () => {
  it("creates the group, target group, load balancer, HTTP listener and the key; a second run changes nothing", async () => {
    const names = h.project("lb");
    const lines: string[] = [];
    const log = createLogger({ level: "debug", stream: new Writable({ write: (chunk, _, done) => (lines.push(String(chunk)), done()) }) });
    const first = await infraUp({ ...h.deps(), log }, names);
    expect(first.resources.filter((r) => r.action !== "created")).toEqual([]);

    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }))).LoadBalancers?.[0];
    expect(lb).toMatchObject({ Type: "application", Scheme: "internet-facing" });
    // Every zone of the default VPC (moto: us-east-1a..f).
    expect(lb?.AvailabilityZones?.map((z) => z.ZoneName).sort()).toEqual(["a", "b", "c", "d", "e", "f"].map((z) => `us-east-1${z}`));
    const lbAttributes = attrs((await elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Attributes);
    expect(lbAttributes["idle_timeout.timeout_seconds"]).toBe("600");

    const tg = (await elb.send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] }))).TargetGroups?.[0];
    expect(tg).toMatchObject({
      Protocol: "HTTP",
      Port: 8000,
      TargetType: "instance",
      HealthCheckPath: "/healthz",
      HealthCheckPort: "8080",
      HealthCheckIntervalSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    });
    const tgAttributes = attrs((await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg?.TargetGroupArn }))).Attributes);
    expect([tgAttributes["load_balancing.algorithm.type"], String(tgAttributes["deregistration_delay.timeout_seconds"])]).toEqual([
      "least_outstanding_requests",
      "90",
    ]);

    const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners ?? [];
    expect(listeners.map((l) => [l.Port, l.Protocol, l.DefaultActions?.[0]?.Type, l.DefaultActions?.[0]?.TargetGroupArn])).toEqual([
      [80, "HTTP", "forward", tg?.TargetGroupArn],
    ]);

    // No CIDR by default; the workers' group admits 8000 and 8080 from the load balancer's group.
    const lbGroup = await lbGroupRules(names);
    expect(lbGroup.rules).toEqual([]);
    expect(lb?.SecurityGroups).toEqual([lbGroup.groupId]);
    const workers = (await h.ec2().send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [names.securityGroup] }] })))
      .SecurityGroups?.[0];
    const fromLb = (workers?.IpPermissions ?? []).filter((p) => p.UserIdGroupPairs?.some((g) => g.GroupId === lbGroup.groupId)).map((p) => p.FromPort);
    expect(fromLb.sort()).toEqual([8000, 8080]);

    // The key: a SecureString of 256 random bits, nowhere in the result or the logs.
    const key = (await ssm.send(new GetParameterCommand({ Name: names.apiKeyParameter, WithDecryption: true }))).Parameter;
    expect(key?.Type).toBe("SecureString");
    expect(key?.Value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(first)).not.toContain(key!.Value!);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("")).not.toContain(key!.Value!);

    const second = await up(names);
    expect(second.changed).toBe(false);
    expect(second.resources.every((r) => r.action === "unchanged")).toBe(true);
    expect((await ssm.send(new GetParameterCommand({ Name: names.apiKeyParameter, WithDecryption: true }))).Parameter?.Value).toBe(key?.Value);
    expect((await infraStatus(h.deps(), names)).ok).toBe(true);
  });

  it("--allow-cidr adds, --revoke-cidr removes, and a re-run without either keeps the rest", async () => {
    const names = h.project("cidr");
    await up(names, { allowCidrs: ["203.0.113.0/24", "198.51.100.0/24"] });
    expect((await lbGroupRules(names)).rules).toEqual(["198.51.100.0/24:80", "203.0.113.0/24:80"]);
    await up(names, { allowCidrs: ["192.0.2.0/24"], revokeCidrs: ["198.51.100.0/24"] });
    expect((await lbGroupRules(names)).rules).toEqual(["192.0.2.0/24:80", "203.0.113.0/24:80"]);
    const again = await up(names);
    expect(again.changed).toBe(false);
    expect((await lbGroupRules(names)).rules).toEqual(["192.0.2.0/24:80", "203.0.113.0/24:80"]);
  });

  it("--certificate-arn adds HTTPS on 443 (every admitted CIDR too) and makes HTTP redirect; a re-run keeps it", async () => {
    const names = h.project("tls");
    await up(names, { allowCidrs: ["203.0.113.0/24"] });
    await up(names, { certificateArn: CERT });
    const seen = await observeInfra(h.deps(), names);
    if (seen.loadBalancer.state !== "present") throw new Error("no load balancer");
    expect(seen.loadBalancer.listeners.map((l) => [l.port, l.protocol, l.action.type, l.certificateArn])).toEqual([
      [80, "HTTP", "redirect-https", undefined],
      [443, "HTTPS", "forward", CERT],
    ]);
    expect((await lbGroupRules(names)).rules).toEqual(["203.0.113.0/24:443", "203.0.113.0/24:80"]);
    expect((await up(names)).changed).toBe(false);
  });

  it("refuses to change the scheme of an existing load balancer, before changing anything", async () => {
    const names = h.project("scheme");
    await up(names);
    await expect(up(names, { internal: true, allowCidrs: ["10.0.0.0/8"] })).rejects.toMatchObject({
      kind: "unsafe",
      message: expect.stringContaining("new URL"),
      remedy: expect.stringContaining(`synkti infra up --project-name ${names.project} --internal`),
    });
    expect((await lbGroupRules(names)).rules).toEqual([]); // the CIDR was not added either
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }))).LoadBalancers?.[0];
    expect(lb?.Scheme).toBe("internet-facing");
  });

  it("--internal on a new project makes an internal load balancer", async () => {
    const names = h.project("internal");
    await up(names, { internal: true });
    expect((await elb.send(new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }))).LoadBalancers?.[0]?.Scheme).toBe("internal");
    expect((await up(names)).changed).toBe(false);
  });
});

describe("infra destroy: the load balancer", () => {
  it("lists, then deletes listener, load balancer, target group, both groups and the key; nothing is left", async () => {
    const names = h.project("lbgone");
    await up(names, { allowCidrs: ["203.0.113.0/24"], certificateArn: CERT });
    const listing = await infraDestroy(h.deps(), names, { confirmed: false });
    expect(listing.resources.filter((r) => r.action === "delete").map((r) => r.kind)).toEqual([
      "bucket",
      "role",
      "role-policy",
      "instance-profile",
      "listener",
      "listener",
      "load-balancer",
      "target-group",
      "load-balancer-security-group",
      "security-group",
      "api-key",
    ]);
    const result = await infraDestroy(h.deps(), names, { confirmed: true });
    expect(result.resources.every((r) => r.action === "deleted")).toBe(true);

    const seen = await observeInfra(h.deps(), names);
    expect([seen.loadBalancer, seen.targetGroup, seen.loadBalancerSecurityGroup, seen.securityGroup, seen.apiKey].map((o) => o.state)).toEqual(
      Array(5).fill("missing"),
    );
    await expect(elb.send(new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }))).rejects.toMatchObject({ name: "LoadBalancerNotFoundException" });
    await expect(ssm.send(new GetParameterCommand({ Name: names.apiKeyParameter }))).rejects.toMatchObject({ name: "ParameterNotFound" });
    expect((await infraDestroy(h.deps(), names, { confirmed: true })).changed).toBe(false);
  });

  it("deletes in dependency order, and waits out a group still in use (moto enforces neither; a proxy plays AWS)", async () => {
    const names = h.project("order");
    await up(names, { allowCidrs: ["203.0.113.0/24"] });
    const proxy = await startFaultProxy({ target: h.moto.url });
    const endpoint = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = proxy.url;
    try {
      // AWS answers DependencyViolation while the deleted load balancer's interfaces still hold its group.
      const busy = proxy.addRule({ action: "ec2:DeleteSecurityGroup", times: 1, error: { code: "DependencyViolation", message: "resource has a dependent object" } });
      await infraDestroy(h.deps(), names, { confirmed: true });
      expect(proxy.ruleHits(busy)).toBe(1);
      const order = proxy
        .calls()
        .map((c) => c.action)
        .filter((a) => /DeleteListener|DeleteLoadBalancer|DescribeLoadBalancers|DeleteTargetGroup|RevokeSecurityGroupIngress|DeleteSecurityGroup|DeleteParameter|DeleteBucket$/.test(a));
      const first = (action: string) => order.indexOf(action);
      const last = (action: string) => order.lastIndexOf(action);
      expect(first("elasticloadbalancing:DeleteListener")).toBeLessThan(first("elasticloadbalancing:DeleteLoadBalancer"));
      // Asked again after the delete, until it is gone, before anything that depended on it goes.
      expect(last("elasticloadbalancing:DescribeLoadBalancers")).toBeGreaterThan(first("elasticloadbalancing:DeleteLoadBalancer"));
      expect(last("elasticloadbalancing:DescribeLoadBalancers")).toBeLessThan(first("elasticloadbalancing:DeleteTargetGroup"));
      expect(first("elasticloadbalancing:DeleteTargetGroup")).toBeLessThan(first("ec2:RevokeSecurityGroupIngress"));
      expect(first("ec2:RevokeSecurityGroupIngress")).toBeLessThan(first("ec2:DeleteSecurityGroup"));
      expect(order.filter((a) => a === "ec2:DeleteSecurityGroup")).toHaveLength(3); // refused once, then both groups
      expect(last("ec2:DeleteSecurityGroup")).toBeLessThan(first("ssm:DeleteParameter"));
    } finally {
      process.env.AWS_ENDPOINT_URL = endpoint;
      await proxy.close();
    }
    const seen = await observeInfra(h.deps(), names);
    expect([seen.loadBalancer.state, seen.loadBalancerSecurityGroup.state, seen.securityGroup.state]).toEqual(["missing", "missing", "missing"]);
  });
});

describe("infra up with a certificate AWS does not know", () => {
  it("stops with the operator's fix, not an AWS stack", async () => {
    const names = h.project("nocert");
    const error = await up(names, { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/does-not-exist" }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "certificate-not-found",
      kind: "unsafe",
      remedy: `aws acm list-certificates --region us-east-1   # then synkti infra up --project-name ${names.project} --certificate-arn <arn>`,
    });
  });
});
