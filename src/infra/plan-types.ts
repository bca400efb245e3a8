import type { PolicyDocument } from "./policies.js";
import type { IngressRule } from "../aws/ec2.js";
import type { IngressSpec, Scheme } from "./desired.js";
import type { ResourceKind } from "./deps.js";

/**
 * A plan says, per resource, what `infra up` would do and why. Changes are data (an op and a
 * reason an operator can read); src/infra/apply.ts performs them, src/infra/status.ts words them.
 */
export type PlanAction = "create" | "update" | "unchanged" | "blocked";

/** Something `infra up` cannot fix by itself; the remedy is the command for the operator. */
export interface Blocker {
  message: string;
  remedy: string;
}

type Tags = Record<string, string>;

export type BucketChange =
  | { op: "create-bucket"; reason: string }
  | { op: "put-public-access-block"; reason: string }
  | { op: "put-encryption"; reason: string }
  | { op: "put-lifecycle"; reason: string }
  | { op: "put-tags"; tags: Tags; reason: string }
  | { op: "put-policy"; reason: string };

export type RoleChange =
  | { op: "create-role"; reason: string }
  | { op: "update-trust-policy"; reason: string }
  | { op: "tag-role"; tags: Tags; reason: string };

/** The document to write travels with the change: it merges the recorded instance types with this run's flags. */
export type RolePolicyChange = { op: "put-role-policy"; document: PolicyDocument; reason: string };

export type InstanceProfileChange =
  | { op: "create-instance-profile"; reason: string }
  | { op: "remove-role"; roleName: string; reason: string }
  | { op: "add-role"; reason: string }
  | { op: "tag-instance-profile"; tags: Tags; reason: string };

export type SecurityGroupChange =
  | { op: "create-security-group"; vpcId: string; reason: string }
  | { op: "authorize-ingress"; rules: IngressSpec[]; reason: string }
  | { op: "revoke-ingress"; rules: IngressRule[]; reason: string }
  | { op: "tag-security-group"; tags: Tags; reason: string };

export type LoadBalancerSecurityGroupChange =
  | { op: "create-security-group"; vpcId: string; reason: string }
  | { op: "authorize-cidrs"; rules: CidrRule[]; reason: string }
  | { op: "revoke-ingress"; rules: IngressRule[]; reason: string }
  | { op: "tag-security-group"; tags: Tags; reason: string };

/** One listener port open to one CIDR. */
export interface CidrRule {
  port: number;
  cidr: string;
}

export type TargetGroupChange =
  | { op: "create-target-group"; vpcId: string; reason: string }
  | { op: "modify-health-check"; reason: string }
  | { op: "set-target-group-attributes"; reason: string }
  | { op: "tag-target-group"; tags: Tags; reason: string };

export type LoadBalancerChange =
  | { op: "create-load-balancer"; scheme: Scheme; subnetIds: string[]; reason: string }
  | { op: "set-load-balancer-attributes"; reason: string }
  | { op: "set-security-groups"; reason: string }
  | { op: "set-subnets"; subnetIds: string[]; reason: string }
  | { op: "tag-load-balancer"; tags: Tags; reason: string };

/** A listener as wanted; the target group's ARN is resolved when applied (it may be new). */
export interface ListenerWant {
  port: number;
  protocol: "HTTP" | "HTTPS";
  action: "forward" | "redirect-https";
  certificateArn?: string;
}

export type ListenerChange =
  | { op: "create-listener"; listener: ListenerWant; reason: string }
  | { op: "modify-listener"; listenerArn: string; listener: ListenerWant; reason: string };

export type ApiKeyChange = { op: "create-api-key"; reason: string };

export interface PlanStep<K extends ResourceKind, C> {
  kind: K;
  name: string;
  action: PlanAction;
  changes: C[];
  blocker?: Blocker;
}

export type BucketStep = PlanStep<"bucket", BucketChange>;
export type RoleStep = PlanStep<"role", RoleChange>;
export type RolePolicyStep = PlanStep<"role-policy", RolePolicyChange>;
export type InstanceProfileStep = PlanStep<"instance-profile", InstanceProfileChange>;
/** Updates need the existing group's id; a create learns it when applied. */
export type SecurityGroupStep = PlanStep<"security-group", SecurityGroupChange> & { groupId?: string };

/** The ids an update needs; creates learn theirs when applied (src/infra/apply.ts carries them on). */
export type LoadBalancerSecurityGroupStep = PlanStep<"load-balancer-security-group", LoadBalancerSecurityGroupChange> & { groupId?: string };
export type TargetGroupStep = PlanStep<"target-group", TargetGroupChange> & { arn?: string };
export type LoadBalancerStep = PlanStep<"load-balancer", LoadBalancerChange> & { arn?: string };
export type ListenerStep = PlanStep<"listener", ListenerChange>;
export type ApiKeyStep = PlanStep<"api-key", ApiKeyChange>;

export type AnyStep =
  | BucketStep
  | RoleStep
  | RolePolicyStep
  | InstanceProfileStep
  | SecurityGroupStep
  | LoadBalancerSecurityGroupStep
  | TargetGroupStep
  | LoadBalancerStep
  | ListenerStep
  | ApiKeyStep;

export interface InfraPlan {
  bucket: BucketStep;
  role: RoleStep;
  rolePolicy: RolePolicyStep;
  instanceProfile: InstanceProfileStep;
  loadBalancerSecurityGroup: LoadBalancerSecurityGroupStep;
  securityGroup: SecurityGroupStep;
  targetGroup: TargetGroupStep;
  loadBalancer: LoadBalancerStep;
  /** HTTP:80, and HTTPS:443 once a certificate was given. */
  listeners: ListenerStep[];
  apiKey: ApiKeyStep;
}

/**
 * The steps in apply order: the role before its policy and profile; the load balancer's group
 * before the workers' (whose rules name it); the target group and the load balancer before the
 * listeners joining them.
 */
export function planSteps(plan: InfraPlan): AnyStep[] {
  return [
    plan.bucket,
    plan.role,
    plan.rolePolicy,
    plan.instanceProfile,
    plan.loadBalancerSecurityGroup,
    plan.securityGroup,
    plan.targetGroup,
    plan.loadBalancer,
    ...plan.listeners,
    plan.apiKey,
  ];
}

export function planChanges(plan: InfraPlan): boolean {
  return planSteps(plan).some((step) => step.action !== "unchanged");
}

export function step<K extends ResourceKind, C>(kind: K, name: string, exists: boolean, changes: C[], blocker?: Blocker): PlanStep<K, C> {
  if (blocker) return { kind, name, action: "blocked", changes: [], blocker };
  const action: PlanAction = !exists ? "create" : changes.length > 0 ? "update" : "unchanged";
  return { kind, name, action, changes };
}

/** Desired tags missing or different among the observed ones (others' tags are left alone). */
export function missingTags(want: Tags, have: Tags): Tags {
  return Object.fromEntries(Object.entries(want).filter(([key, value]) => have[key] !== value));
}

export function describeTags(tags: Tags): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}
