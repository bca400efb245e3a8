import {
  accountContext,
  desiredInfra,
  isPublicCidr,
  observeApiKey,
  observeLoadBalancer,
  observeLoadBalancerSecurityGroup,
  observeTargetGroup,
  planApiKey,
  planListeners,
  planLoadBalancer,
  planLoadBalancerSecurityGroup,
  planTargetGroup,
  recordedCidrs,
  wantedListeners,
  type AnyStep,
  type ApiKeyObservation,
  type DesiredInfra,
  type LoadBalancerObservation,
  type SecurityGroupObservation,
  type TargetGroupObservation,
} from "../../infra/index.js";
import type { Finding, Requirement } from "../types.js";
import { synktiCommand, type DeployerContext } from "./context.js";
import { stepFinding } from "./infra.js";

/**
 * The load balancer in front of the workers, judged by the same pure planners `infra up` uses
 * (with no flags: what exists is what is wanted), plus two warnings about who can reach it.
 */
const desired = (ctx: DeployerContext): Promise<DesiredInfra> =>
  ctx.once("desired-infra", async () => desiredInfra(ctx.names, await accountContext(ctx)));
const lbGroup = (ctx: DeployerContext) =>
  ctx.once<SecurityGroupObservation>("lb-security-group", (s) => observeLoadBalancerSecurityGroup(ctx, ctx.names, s));
const loadBalancer = (ctx: DeployerContext) => ctx.once<LoadBalancerObservation>("load-balancer", (s) => observeLoadBalancer(ctx, ctx.names, s));
const targetGroup = (ctx: DeployerContext) => ctx.once<TargetGroupObservation>("target-group", (s) => observeTargetGroup(ctx, ctx.names, s));

interface Seen {
  want: DesiredInfra;
  group: SecurityGroupObservation;
  lb: LoadBalancerObservation;
  tg: TargetGroupObservation;
}

const observeAll = async (ctx: DeployerContext): Promise<Seen> => {
  const [want, group, lb, tg] = await Promise.all([desired(ctx), lbGroup(ctx), loadBalancer(ctx), targetGroup(ctx)]);
  return { want, group, lb, tg };
};

const groupId = (group: SecurityGroupObservation) => (group.state === "present" ? group.groupId : undefined);
const listenerPorts = (seen: Seen) => wantedListeners(seen.want.listeners, seen.lb).map((l) => l.port);

function requirement(id: string, title: string, what: string, plan: (seen: Seen) => AnyStep, dependsOn: string[]): Requirement<DeployerContext, Seen> {
  return { id, title, dependsOn, observe: observeAll, verdict: (seen, ctx) => stepFinding(plan(seen), ctx, what) };
}

export const loadBalancerSecurityGroup = requirement(
  "load-balancer-security-group",
  "load balancer security group (only the CIDRs the operator allows)",
  "security group",
  (seen) => planLoadBalancerSecurityGroup(seen.want.loadBalancerSecurityGroup, seen.group, listenerPorts(seen)),
  ["credentials"],
);

export const targetGroupRequirement = requirement(
  "target-group",
  "target group of the workers' vLLM port (health-checked on /healthz)",
  "target group",
  (seen) => planTargetGroup(seen.want.targetGroup, seen.tg, seen.want.loadBalancer.project),
  ["credentials"],
);

export const loadBalancerRequirement = requirement(
  "load-balancer",
  "application load balancer in every zone with a default subnet",
  "load balancer",
  (seen) => planLoadBalancer(seen.want.loadBalancer, seen.lb, groupId(seen.group)),
  ["load-balancer-security-group"],
);

/** The first listener that is not as wanted decides (HTTP:80, then HTTPS:443). */
export const listenerRequirement = requirement(
  "listener",
  "listeners forwarding to the target group (HTTPS when a certificate was given)",
  "listener",
  (seen) => {
    const steps = planListeners(seen.want.listeners, seen.lb, seen.tg.state === "present" ? seen.tg.targetGroup.arn : undefined);
    return steps.find((s) => s.action !== "unchanged") ?? steps[0]!;
  },
  ["load-balancer", "target-group"],
);

export const apiKey: Requirement<DeployerContext, { want: DesiredInfra; seen: ApiKeyObservation }> = {
  id: "api-key",
  title: "API key in SSM Parameter Store (SecureString)",
  dependsOn: ["credentials"],
  async observe(ctx, signal) {
    const [want, seen] = await Promise.all([desired(ctx), observeApiKey(ctx, ctx.names, signal)]);
    return { want, seen };
  },
  verdict: ({ want, seen }, ctx) => stepFinding(planApiKey(want.apiKey, seen, ctx.names.project), ctx, "SSM parameter"),
};

/**
 * Who can reach the endpoint. Warnings, not failures: a load balancer nobody may call yet, or one
 * that takes the key in clear over the internet, still serves what it can.
 */
export const loadBalancerAccess: Requirement<DeployerContext, Seen> = {
  id: "load-balancer-access",
  title: "the endpoint is reachable by the allowed CIDRs, and the key does not cross the internet in clear",
  dependsOn: ["load-balancer-security-group", "load-balancer", "listener"],
  observe: observeAll,
  verdict(seen, ctx): Finding {
    const cidrs = seen.group.state === "present" ? recordedCidrs(seen.group.ingress) : [];
    const internal = seen.lb.state === "present" && seen.lb.loadBalancer.scheme === "internal";
    const https = listenerPorts(seen).length > 1;
    if (cidrs.length === 0) {
      // Internal too: its group still admits nobody, not even the VPC, until a CIDR is named.
      return {
        status: "warn",
        observed: `the load balancer admits no CIDR: nobody${internal ? ", not even inside the VPC," : ""} can call the endpoint yet`,
        fix: { command: synktiCommand(ctx, "infra up", ["--allow-cidr", "<cidr>"]), needs: ["cidr"] },
      };
    }
    const open = cidrs.filter(isPublicCidr);
    if (!https && !internal && open.length > 0) {
      return {
        status: "warn",
        observed: `plain HTTP is open to ${open.join(", ")}: the API key travels in clear`,
        fix: { command: synktiCommand(ctx, "infra up", ["--certificate-arn", "<certificate-arn>"]), needs: ["certificate-arn"] },
      };
    }
    return { status: "pass", observed: `${https ? "HTTPS" : "HTTP"} ${internal ? "VPC-only " : ""}endpoint for ${cidrs.join(", ")}` };
  },
};

export const loadBalancerRequirements = [
  loadBalancerSecurityGroup,
  targetGroupRequirement,
  loadBalancerRequirement,
  listenerRequirement,
  apiKey,
  loadBalancerAccess,
];
