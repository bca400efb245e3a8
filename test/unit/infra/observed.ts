/**
 * Observations as AWS would report them, for the pure planners' tests: everything right after a
 * successful `infra up` (documents re-serialised as AWS does), or a fresh account.
 */
import type { DesiredInfra } from "../../../src/infra/desired.js";
import type { InfraObservation } from "../../../src/infra/observe.js";

export const GROUP = "sg-0123";
export const LB_GROUP = "sg-0lb";
export const TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/acme-synkti-vllm/0123";
export const LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/acme-synkti/0456";
export const SUBNETS = { "us-east-1a": "subnet-a", "us-east-1b": "subnet-b", "us-east-1c": "subnet-c" };

export function asDesired(w: DesiredInfra, cidrs: string[] = []): InfraObservation {
  return {
    bucket: {
      state: "present",
      publicAccessBlock: { ...w.bucket.publicAccessBlock },
      encryption: w.bucket.encryption,
      policy: JSON.parse(JSON.stringify(w.bucket.policy)),
      lifecycleRules: structuredClone(w.bucket.lifecycleRules).reverse(),
      tags: { ...w.bucket.tags, Owner: "someone-else" },
    },
    role: { state: "present", arn: "arn:aws:iam::123456789012:role/acme-synkti-worker", trustPolicy: structuredClone(w.role.trustPolicy), tags: w.role.tags },
    rolePolicy: { state: "present", document: structuredClone(w.rolePolicy.document) },
    instanceProfile: { state: "present", arn: "arn:p", roles: [w.role.name], tags: w.instanceProfile.tags },
    securityGroup: {
      state: "present",
      vpcId: "vpc-1",
      groupId: GROUP,
      loadBalancerGroupId: LB_GROUP,
      tags: w.securityGroup.tags,
      ingress: w.securityGroup.ingress.map((spec) => ({
        protocol: "tcp",
        fromPort: spec.port,
        toPort: spec.port,
        source: { kind: "group", groupId: spec.source === "self" ? GROUP : LB_GROUP },
      })),
    },
    loadBalancerSecurityGroup: {
      state: "present",
      vpcId: "vpc-1",
      groupId: LB_GROUP,
      tags: w.loadBalancerSecurityGroup.tags,
      ingress: cidrs.map((cidr, i) => ({ protocol: "tcp", fromPort: 80, toPort: 80, source: { kind: "cidr", cidr }, ruleId: `sgr-${i}` })),
    },
    targetGroup: {
      state: "present",
      targetGroup: {
        arn: TG_ARN,
        name: w.targetGroup.name,
        protocol: "HTTP",
        port: 8000,
        targetType: "instance",
        vpcId: "vpc-1",
        healthCheck: { ...w.targetGroup.healthCheck },
        // AWS reports every attribute, ours among them
        attributes: { ...w.targetGroup.attributes, "stickiness.enabled": "false" },
        tags: w.targetGroup.tags,
      },
    },
    loadBalancer: {
      state: "present",
      defaultSubnets: { ...SUBNETS },
      loadBalancer: {
        arn: LB_ARN,
        name: w.loadBalancer.name,
        dnsName: "acme-synkti-1.us-east-1.elb.amazonaws.com",
        scheme: "internet-facing",
        type: "application",
        state: "active",
        vpcId: "vpc-1",
        securityGroups: [LB_GROUP],
        zones: { ...SUBNETS },
        attributes: { ...w.loadBalancer.attributes, "deletion_protection.enabled": "false" },
        tags: w.loadBalancer.tags,
      },
      listeners: [{ arn: "arn:listener/80", port: 80, protocol: "HTTP", action: { type: "forward", targetGroupArn: TG_ARN } }],
    },
    apiKey: { state: "present", type: "SecureString", keyId: "alias/aws/ssm" },
  };
}

export const missing: InfraObservation = {
  bucket: { state: "missing" },
  role: { state: "missing" },
  rolePolicy: { state: "missing" },
  instanceProfile: { state: "missing" },
  securityGroup: { state: "missing", vpcId: "vpc-1" },
  loadBalancerSecurityGroup: { state: "missing", vpcId: "vpc-1" },
  targetGroup: { state: "missing", vpcId: "vpc-1" },
  loadBalancer: { state: "missing", defaultSubnets: { ...SUBNETS } },
  apiKey: { state: "missing" },
};
