// The load balancer's preflight verdicts are pure: judged on observations as AWS reports them.
import { describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { desiredInfra } from "../../../src/infra/desired.js";
import { projectNames } from "../../../src/infra/names.js";
import { deployerContext, deployerRequirements } from "../../../src/preflight/deployer/index.js";
import { apiKey, listenerRequirement, loadBalancerAccess, loadBalancerRequirement } from "../../../src/preflight/deployer/load-balancer.js";
import { FakeClock } from "../../support/fake-clock.js";
import { asDesired, missing } from "../infra/observed.js";

const ctx = deployerContext({ clients: createAwsClients({ role: "deployer", region: "us-east-1" }), clock: new FakeClock() }, { project: "acme", region: "us-east-1" });
const want = desiredInfra(projectNames("acme"), { accountId: "123456789012", partition: "aws", region: "us-east-1" });
const seenWith = (cidrs: string[], edit: (o: ReturnType<typeof asDesired>) => void = () => {}) => {
  const o = asDesired(want, cidrs);
  edit(o);
  return { want, group: o.loadBalancerSecurityGroup, lb: o.loadBalancer, tg: o.targetGroup };
};

describe("deployer preflight: the load balancer", () => {
  it("is required by a launch, each part blocked by what it needs", () => {
    const byId = new Map(deployerRequirements().map((r) => [r.id, r]));
    expect(byId.get("load-balancer")?.dependsOn).toEqual(["load-balancer-security-group"]);
    expect(byId.get("listener")?.dependsOn).toEqual(["load-balancer", "target-group"]);
    for (const id of ["load-balancer-security-group", "target-group", "api-key", "load-balancer-access"]) expect(byId.has(id), id).toBe(true);
  });

  it("fails a missing load balancer, listener and key with the infra up fix", () => {
    const empty = { want, group: missing.loadBalancerSecurityGroup, lb: missing.loadBalancer, tg: missing.targetGroup };
    expect(loadBalancerRequirement.verdict(empty, ctx)).toMatchObject({ status: "fail", fix: { command: "synkti infra up --project-name acme --region us-east-1" } });
    expect(listenerRequirement.verdict(empty, ctx)).toMatchObject({ status: "fail", observed: expect.stringContaining("acme-synkti:80 does not exist") });
    expect(apiKey.verdict({ want, seen: { state: "missing" } }, ctx)).toMatchObject({ status: "fail" });
    expect(apiKey.verdict({ want, seen: { state: "present", type: "SecureString" } }, ctx).status).toBe("pass");
  });

  it("warns when no CIDR is admitted, with the fix naming the placeholder", () => {
    expect(loadBalancerAccess.verdict(seenWith([]), ctx)).toEqual({
      status: "warn",
      observed: "the load balancer admits no CIDR: nobody can call the endpoint yet",
      fix: { command: "synkti infra up --project-name acme --region us-east-1 --allow-cidr <cidr>", needs: ["cidr"] },
    });
  });

  it("warns that the key travels in clear when plain HTTP is open to a public CIDR, not to a private one", () => {
    expect(loadBalancerAccess.verdict(seenWith(["0.0.0.0/0"]), ctx)).toMatchObject({
      status: "warn",
      observed: "plain HTTP is open to 0.0.0.0/0: the API key travels in clear",
      fix: { command: "synkti infra up --project-name acme --region us-east-1 --certificate-arn <certificate-arn>", needs: ["certificate-arn"] },
    });
    expect(loadBalancerAccess.verdict(seenWith(["10.0.0.0/8"]), ctx).status).toBe("pass");
    const internal = seenWith(["0.0.0.0/0"], (o) => o.loadBalancer.state === "present" && (o.loadBalancer.loadBalancer.scheme = "internal"));
    expect(loadBalancerAccess.verdict(internal, ctx).status).toBe("pass");
  });

  it("passes public CIDRs once HTTPS is on", () => {
    const https = seenWith(["0.0.0.0/0"], (o) => {
      if (o.loadBalancer.state !== "present") return;
      o.loadBalancer.listeners.push({ arn: "l443", port: 443, protocol: "HTTPS", action: { type: "forward", targetGroupArn: "x" }, certificateArn: "arn:aws:acm:us-east-1:1:certificate/x" });
    });
    expect(loadBalancerAccess.verdict(https, ctx)).toEqual({ status: "pass", observed: "HTTPS endpoint for 0.0.0.0/0" });
  });
});
