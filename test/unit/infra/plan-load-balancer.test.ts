import { describe, expect, it } from "vitest";
import { desiredInfra, type LoadBalancerOptions } from "../../../src/infra/desired.js";
import { projectNames } from "../../../src/infra/names.js";
import type { InfraObservation } from "../../../src/infra/observe.js";
import { planInfra } from "../../../src/infra/plan.js";
import { statusOf } from "../../../src/infra/status.js";
import { asDesired, LB_ARN, LB_GROUP, missing, TG_ARN } from "./observed.js";

const account = { accountId: "123456789012", partition: "aws", region: "us-east-1" };
const wantWith = (lb: LoadBalancerOptions = {}) => desiredInfra(projectNames("acme"), account, lb);
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc-123";

describe("load balancer planning (pure)", () => {
  it("creates group, target group, load balancer in every default-subnet zone, HTTP listener and key, admitting no CIDR", () => {
    const plan = planInfra(wantWith(), missing);
    expect(plan.loadBalancerSecurityGroup.changes.map((c) => c.op)).toEqual(["create-security-group"]);
    expect(plan.loadBalancer.changes[0]).toMatchObject({
      op: "create-load-balancer",
      scheme: "internet-facing",
      subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
    });
    expect(plan.targetGroup.changes.map((c) => c.op)).toEqual(["create-target-group", "set-target-group-attributes"]);
    expect(plan.listeners).toHaveLength(1);
    expect(plan.listeners[0]!.changes[0]).toMatchObject({ op: "create-listener", listener: { port: 80, protocol: "HTTP", action: "forward" } });
    expect(plan.apiKey.changes).toEqual([{ op: "create-api-key", reason: expect.any(String) }]);
  });

  it("wants the target group's settings: port 8000, /healthz on 8080 every 5 s, 2/2, least outstanding requests, 90 s delay", () => {
    const tg = wantWith().targetGroup;
    expect(tg).toMatchObject({ protocol: "HTTP", port: 8000, targetType: "instance" });
    expect(tg.healthCheck).toMatchObject({ path: "/healthz", port: "8080", intervalSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2 });
    expect(tg.healthCheck.timeoutSeconds).toBeLessThan(tg.healthCheck.intervalSeconds);
    expect(tg.attributes).toEqual({ "load_balancing.algorithm.type": "least_outstanding_requests", "deregistration_delay.timeout_seconds": "90" });
    expect(wantWith().loadBalancer.attributes).toEqual({ "idle_timeout.timeout_seconds": "600" });
  });

  it("admits --allow-cidr on every listener port when creating", () => {
    const plan = planInfra(wantWith({ allowCidrs: ["203.0.113.0/24"] }), missing);
    expect(plan.loadBalancerSecurityGroup.changes[1]).toMatchObject({ op: "authorize-cidrs", rules: [{ port: 80, cidr: "203.0.113.0/24" }] });
  });

  it("plans nothing when everything is as infra up made it, and ignores attributes it does not set", () => {
    const plan = planInfra(wantWith(), asDesired(wantWith(), ["203.0.113.0/24"]));
    expect(statusOf(plan).ok).toBe(true);
  });

  it("keeps the CIDRs the group admits, adds --allow-cidr, takes out --revoke-cidr", () => {
    const seen = asDesired(wantWith(), ["203.0.113.0/24", "198.51.100.0/24"]);
    const plan = planInfra(wantWith({ allowCidrs: ["192.0.2.0/24"], revokeCidrs: ["198.51.100.0/24"] }), seen);
    const group = seen.loadBalancerSecurityGroup.state === "present" ? seen.loadBalancerSecurityGroup : undefined;
    expect(plan.loadBalancerSecurityGroup.changes).toEqual([
      { op: "authorize-cidrs", rules: [{ port: 80, cidr: "192.0.2.0/24" }], reason: "admit 192.0.2.0/24 on tcp 80" },
      { op: "revoke-ingress", rules: [group!.ingress[1]], reason: "revoke tcp 80 from 198.51.100.0/24" },
    ]);
  });

  it("with a certificate: HTTPS:443 forwards, HTTP:80 redirects, and every admitted CIDR also gets 443", () => {
    const seen = asDesired(wantWith(), ["203.0.113.0/24"]);
    const plan = planInfra(wantWith({ certificateArn: CERT }), seen);
    expect(plan.listeners.map((l) => [l.name, l.action])).toEqual([
      ["acme-synkti:80", "update"],
      ["acme-synkti:443", "create"],
    ]);
    expect(plan.listeners[0]!.changes[0]).toMatchObject({ op: "modify-listener", listener: { action: "redirect-https" } });
    expect(plan.listeners[1]!.changes[0]).toMatchObject({ op: "create-listener", listener: { port: 443, protocol: "HTTPS", certificateArn: CERT } });
    expect(plan.loadBalancerSecurityGroup.changes).toEqual([expect.objectContaining({ op: "authorize-cidrs", rules: [{ port: 443, cidr: "203.0.113.0/24" }] })]);
  });

  it("keeps an existing HTTPS listener and its certificate on a re-run without --certificate-arn", () => {
    const seen = asDesired(wantWith(), ["203.0.113.0/24"]);
    if (seen.loadBalancer.state !== "present" || seen.loadBalancerSecurityGroup.state !== "present") throw new Error("fixture");
    seen.loadBalancer.listeners = [
      { arn: "l80", port: 80, protocol: "HTTP", action: { type: "redirect-https", port: "443", statusCode: "HTTP_301" } },
      { arn: "l443", port: 443, protocol: "HTTPS", action: { type: "forward", targetGroupArn: TG_ARN }, certificateArn: CERT },
    ];
    seen.loadBalancerSecurityGroup.ingress.push({ protocol: "tcp", fromPort: 443, toPort: 443, source: { kind: "cidr", cidr: "203.0.113.0/24" }, ruleId: "sgr-x" });
    expect(statusOf(planInfra(wantWith(), seen)).ok).toBe(true);
  });

  it("refuses to change the scheme of an existing load balancer, with the fix (it would change the URL)", () => {
    const plan = planInfra(wantWith({ internal: true }), asDesired(wantWith()));
    expect(plan.loadBalancer).toMatchObject({
      action: "blocked",
      blocker: {
        message: expect.stringMatching(/internet-facing; making it internal means a new load balancer with a new URL/),
        remedy: `aws elbv2 delete-load-balancer --load-balancer-arn ${LB_ARN}   # clients lose the old URL; then synkti infra up --project-name acme --internal`,
      },
    });
    // Without the flag (or with the same scheme) nothing is refused.
    expect(planInfra(wantWith({ internal: false }), asDesired(wantWith())).loadBalancer.action).toBe("unchanged");
  });

  type Drift = [string, (o: InfraObservation) => void, "loadBalancer" | "targetGroup", string, RegExp];
  const drifts: Drift[] = [
    ["idle timeout 60 s", (o) => o.loadBalancer.state === "present" && (o.loadBalancer.loadBalancer.attributes["idle_timeout.timeout_seconds"] = "60"), "loadBalancer", "set-load-balancer-attributes", /is 60, want 600/],
    ["another group on it", (o) => o.loadBalancer.state === "present" && (o.loadBalancer.loadBalancer.securityGroups = [LB_GROUP, "sg-other"]), "loadBalancer", "set-security-groups", /sg-other/],
    ["a zone missing", (o) => o.loadBalancer.state === "present" && delete o.loadBalancer.loadBalancer.zones["us-east-1c"], "loadBalancer", "set-subnets", /not enabled in us-east-1c/],
    ["round robin", (o) => o.targetGroup.state === "present" && (o.targetGroup.targetGroup.attributes["load_balancing.algorithm.type"] = "round_robin"), "targetGroup", "set-target-group-attributes", /round_robin, want least_outstanding_requests/],
    ["AWS's 300 s delay", (o) => o.targetGroup.state === "present" && (o.targetGroup.targetGroup.attributes["deregistration_delay.timeout_seconds"] = "300"), "targetGroup", "set-target-group-attributes", /300, want 90/],
    ["health check on /", (o) => o.targetGroup.state === "present" && (o.targetGroup.targetGroup.healthCheck.path = "/"), "targetGroup", "modify-health-check", /path is \/, want \/healthz/],
  ];
  it.each(drifts)("repairs drift: %s", (_, mutate, key, op, reason) => {
    const seen = asDesired(wantWith());
    mutate(seen);
    const step = planInfra(wantWith(), seen)[key];
    expect(step.action).toBe("update");
    expect(step.changes).toEqual([expect.objectContaining({ op, reason: expect.stringMatching(reason) })]);
  });

  it("set-subnets keeps the zones already enabled and adds the missing one", () => {
    const seen = asDesired(wantWith());
    if (seen.loadBalancer.state === "present") delete seen.loadBalancer.loadBalancer.zones["us-east-1c"];
    expect(planInfra(wantWith(), seen).loadBalancer.changes[0]).toMatchObject({ subnetIds: ["subnet-a", "subnet-b", "subnet-c"] });
  });

  it("blocks where only the operator can decide: a target group on another port, a String key, fewer than two zones", () => {
    const seen = asDesired(wantWith());
    if (seen.targetGroup.state === "present") seen.targetGroup.targetGroup.port = 80;
    seen.apiKey = { state: "present", type: "String" };
    const plan = planInfra(wantWith(), { ...seen, loadBalancer: { state: "missing", defaultSubnets: { "us-east-1a": "subnet-a" } } });
    expect(plan.targetGroup.blocker?.message).toMatch(/port 80 .* cannot be changed in place/);
    expect(plan.apiKey.blocker?.message).toMatch(/is a String, not a SecureString/);
    expect(plan.loadBalancer.blocker?.remedy).toBe("aws ec2 create-default-subnet --availability-zone <zone>");
  });

  it("a listener forwarding elsewhere is repaired", () => {
    const seen = asDesired(wantWith());
    if (seen.loadBalancer.state === "present") seen.loadBalancer.listeners[0]!.action = { type: "forward", targetGroupArn: "arn:other" };
    expect(planInfra(wantWith(), seen).listeners[0]!.changes[0]).toMatchObject({ op: "modify-listener", listenerArn: "arn:listener/80" });
  });
});
