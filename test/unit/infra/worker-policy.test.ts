/**
 * Static checks of the worker policy (moto proves a policy sufficient, never narrow: see
 * shared/LOCAL-CLOUD.md). The exact action set, and every action AWS can scope is scoped to the
 * project's tag or resources.
 */
import { describe, expect, it } from "vitest";
import { DLAMI_OWNER } from "../../../src/aws/ec2-discovery.js";
import { replacementTags } from "../../../src/failover/spawn-request.js";
import { workerImageOwners } from "../../../src/infra/compute-policy.js";
import { LAUNCH_TAG_KEYS, projectNames, ROLE_WORKER, TAG_CLUSTER, TAG_ROLE, WORKER_SELF_TAG_KEYS } from "../../../src/infra/names.js";
import { replacementRunSpec } from "../../../src/worker/failover/replacement-spec.js";
import { policyVars, workerPolicy, type PolicyStatement } from "../../../src/infra/policies.js";

const account = { accountId: "123456789012", partition: "aws", region: "eu-west-1" };
const names = projectNames("acme-llm");
const policy = workerPolicy(policyVars(names, account));
const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const statementsFor = (action: string) => policy.Statement.filter((s) => list(s.Action).includes(action));
const condition = (s: PolicyStatement, operator: string, key: string) => s.Condition?.[operator]?.[key];

const EXPECTED_ACTIONS = [
  "ec2:CreateTags",
  "ec2:DescribeImages",
  "ec2:DescribeInstanceTypeOfferings",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeInstances",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSubnets",
  "ec2:RunInstances",
  "ec2:TerminateInstances",
  "elasticloadbalancing:DeregisterTargets",
  "elasticloadbalancing:DescribeTargetGroups",
  "elasticloadbalancing:DescribeTargetHealth",
  "elasticloadbalancing:RegisterTargets",
  "iam:PassRole",
  "s3:GetObject",
  "s3:ListBucket",
  "s3:PutObject",
  "servicequotas:GetServiceQuota",
  "ssm:GetParameter",
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

/**
 * Actions for which AWS offers no resource-level permission (Service Authorization Reference: no
 * resource type), so "Resource": "*" is the only valid form. Nothing else may use "*".
 */
const UNSCOPABLE = (action: string) =>
  /^(ec2|elasticloadbalancing):Describe[A-Za-z]+$/.test(action) || action.startsWith("ssmmessages:");

describe("worker policy", () => {
  it("grants exactly the actions a worker needs, only Allow, with no wildcard actions", () => {
    const actions = [...new Set(policy.Statement.flatMap((s) => list(s.Action)))].sort();
    expect(actions).toEqual(EXPECTED_ACTIONS);
    for (const s of policy.Statement) {
      expect(s.Effect).toBe("Allow");
      expect(s).not.toHaveProperty("NotAction");
      expect(s).not.toHaveProperty("NotResource");
      for (const action of list(s.Action)) expect(action).not.toMatch(/\*|\?/);
    }
  });

  it('uses "Resource": "*" only for actions AWS cannot scope', () => {
    for (const s of policy.Statement) {
      if (list(s.Resource).includes("*")) {
        expect(list(s.Resource)).toEqual(["*"]);
        for (const action of list(s.Action)) expect(UNSCOPABLE(action), `${action} with Resource *`).toBe(true);
      }
    }
  });

  it("names this account, region and project in every ARN (no wildcard account or region)", () => {
    for (const arn of policy.Statement.flatMap((s) => list(s.Resource)).filter((r) => r !== "*")) {
      expect(arn).toMatch(/^arn:aws:/);
      if (arn.startsWith("arn:aws:ec2:")) expect(arn).toMatch(/^arn:aws:ec2:eu-west-1:(123456789012)?:/);
      if (arn.startsWith("arn:aws:s3:")) expect(arn.startsWith(`arn:aws:s3:::${names.bucket}`)).toBe(true);
      if (arn.startsWith("arn:aws:iam:")) expect(arn).toBe(`arn:aws:iam::123456789012:role/${names.role}`);
    }
  });

  it("reads the project bucket of this account, writes only logs and failovers, creates claims and repair outcomes only if absent, deletes nothing", () => {
    expect(statementsFor("s3:ListBucket").flatMap((s) => list(s.Resource))).toEqual([`arn:aws:s3:::${names.bucket}`]);
    expect(statementsFor("s3:GetObject").flatMap((s) => list(s.Resource))).toEqual([`arn:aws:s3:::${names.bucket}/*`]);
    const puts = statementsFor("s3:PutObject");
    expect(puts.flatMap((s) => list(s.Resource)).sort()).toEqual(
      ["logs", "failovers", "claims", "repair"].map((p) => `arn:aws:s3:::${names.bucket}/checkpoints/${p}/*`).sort(),
    );
    for (const s of puts) {
      const once = list(s.Resource).some((r) => /\/(claims|repair)\/\*$/.test(r));
      expect(condition(s, "StringEquals", "s3:if-none-match"), s.Sid).toBe(once ? "*" : undefined);
    }
    for (const s of policy.Statement.filter((s) => list(s.Action).some((a) => a.startsWith("s3:")))) {
      expect(condition(s, "StringEquals", "s3:ResourceAccount"), s.Sid).toBe("123456789012");
    }
    expect(statementsFor("s3:DeleteObject")).toEqual([]);
  });

  it("tags only the project's workers with the state keys a worker writes, or what RunInstances creates with the launch's keys", () => {
    const statements = statementsFor("ec2:CreateTags");
    expect(statements).toHaveLength(2);
    for (const s of statements) {
      const onLaunch = condition(s, "StringEquals", "ec2:CreateAction") === "RunInstances";
      const keys = condition(s, "ForAllValues:StringEquals", "aws:TagKeys");
      expect([...list(keys)].sort(), s.Sid).toEqual([...(onLaunch ? LAUNCH_TAG_KEYS : WORKER_SELF_TAG_KEYS)].sort());
      if (onLaunch) {
        expect(condition(s, "StringEquals", `aws:RequestTag/${TAG_CLUSTER}`)).toBe(names.project);
      } else {
        expect(condition(s, "StringEquals", `aws:ResourceTag/${TAG_CLUSTER}`)).toBe(names.project);
        expect(condition(s, "StringEquals", `aws:ResourceTag/${TAG_ROLE}`)).toBe(ROLE_WORKER);
        expect(list(s.Resource)).toEqual(["arn:aws:ec2:eu-west-1:123456789012:instance/*"]);
      }
    }
  });

  it("lists for tag-on-create every tag a replacement's request carries", () => {
    const spec = replacementRunSpec(
      { project: names.project, model: "org/m", imageId: "ami-1", securityGroupId: "sg-1", instanceProfileName: names.instanceProfile, userData: "", subnets: { "eu-west-1a": "subnet-1" }, rootVolume: undefined, launchTypes: { instanceTypes: ["g5.xlarge"], onDemandFallback: true } },
      { candidate: { instanceType: "g5.xlarge", zone: "eu-west-1a", market: "spot" }, clientToken: "t", launchId: "r-i-1", tags: replacementTags({ instanceId: "i-1", instanceType: "g5.xlarge", zone: "eu-west-1b", slot: "2" }) },
    );
    expect(Object.keys(spec.tags).sort()).toEqual([...LAUNCH_TAG_KEYS].sort());
  });

  it("launches only images of Amazon, the Deep Learning AMIs' owner or this account", () => {
    const images = statementsFor("ec2:RunInstances").filter((s) => list(s.Resource).some((r) => r.includes(":image/")));
    expect(images).toHaveLength(1);
    expect(list(condition(images[0]!, "StringEquals", "ec2:Owner"))).toEqual(["amazon", DLAMI_OWNER, "123456789012"]);
    // The same list preflight checks a launch's image against.
    expect(list(condition(images[0]!, "StringEquals", "ec2:Owner"))).toEqual(workerImageOwners("123456789012"));
  });

  it("launches only instances tagged for the project and role, into the project's security group, without a key pair", () => {
    const statements = statementsFor("ec2:RunInstances");
    const instance = statements.filter((s) => list(s.Resource).some((r) => r.includes(":instance/")));
    expect(instance).toHaveLength(1);
    expect(condition(instance[0]!, "StringEquals", `aws:RequestTag/${TAG_CLUSTER}`)).toBe(names.project);
    expect(condition(instance[0]!, "StringEquals", `aws:RequestTag/${TAG_ROLE}`)).toBe(ROLE_WORKER);
    expect(condition(instance[0]!, "StringEquals", "ec2:InstanceProfile")).toBe(`arn:aws:iam::123456789012:instance-profile/${names.instanceProfile}`);
    const groups = statements.filter((s) => list(s.Resource).some((r) => r.includes(":security-group/")));
    expect(groups).toHaveLength(1);
    expect(list(groups[0]!.Resource)).toHaveLength(1);
    expect(condition(groups[0]!, "StringEquals", `ec2:ResourceTag/${TAG_CLUSTER}`)).toBe(names.project);
    const resources = statements.flatMap((s) => list(s.Resource));
    expect(resources.some((r) => r.includes(":key-pair/"))).toBe(false);
  });

  it("terminates only the project's workers", () => {
    const statements = statementsFor("ec2:TerminateInstances");
    expect(statements).toHaveLength(1);
    expect(condition(statements[0]!, "StringEquals", `ec2:ResourceTag/${TAG_CLUSTER}`)).toBe(names.project);
    expect(condition(statements[0]!, "StringEquals", `ec2:ResourceTag/${TAG_ROLE}`)).toBe(ROLE_WORKER);
    expect(list(statements[0]!.Resource)).toEqual(["arn:aws:ec2:eu-west-1:123456789012:instance/*"]);
  });

  it("passes only its own role, and only to EC2", () => {
    const [s, ...rest] = statementsFor("iam:PassRole");
    expect(rest).toHaveLength(0);
    expect(list(s!.Resource)).toEqual([`arn:aws:iam::123456789012:role/${names.role}`]);
    expect(condition(s!, "StringEquals", "iam:PassedToService")).toBe("ec2.amazonaws.com");
  });

  it("registers and deregisters targets only in the project's target group", () => {
    for (const action of ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]) {
      expect(statementsFor(action).flatMap((s) => list(s.Resource))).toEqual([
        `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${names.targetGroup}/*`,
      ]);
    }
  });

  it("reads only the project's API key, with no KMS grant (the AWS-managed aws/ssm key decrypts for the account)", () => {
    expect(statementsFor("ssm:GetParameter").flatMap((s) => list(s.Resource))).toEqual([
      "arn:aws:ssm:eu-west-1:123456789012:parameter/synkti/acme-llm/api-key",
    ]);
    expect(policy.Statement.flatMap((s) => list(s.Action)).some((a) => a.startsWith("kms:"))).toBe(false);
  });

  it("fits IAM's inline policy size limit (10,240 characters without whitespace)", () => {
    expect(JSON.stringify(policy).length).toBeLessThan(10_240);
  });
});

describe("a worker's replacement launch", () => {
  it("may only be a one-time spot instance with IMDSv2 required", () => {
    const instance = statementsFor("ec2:RunInstances").find((s) => list(s.Resource).some((r) => r.endsWith(":instance/*")))!;
    expect(condition(instance, "StringEquals", "ec2:MetadataHttpTokens")).toBe("required");
    expect(condition(instance, "StringEquals", "ec2:InstanceMarketType")).toBe("spot");
  });
});
