import { describe, expect, it } from "vitest";
import { desiredInfra } from "../../../src/infra/desired.js";
import { projectNames } from "../../../src/infra/names.js";
import type { InfraObservation } from "../../../src/infra/observe.js";
import { planInfra } from "../../../src/infra/plan.js";
import { planChanges, planSteps } from "../../../src/infra/plan-types.js";
import { statusOf } from "../../../src/infra/status.js";
import { describePlan } from "../../../src/infra/up.js";
import { asDesired, GROUP, LB_GROUP, missing } from "./observed.js";

const want = desiredInfra(projectNames("acme"), { accountId: "123456789012", partition: "aws", region: "us-east-1" });
describe("planInfra (pure)", () => {
  it("plans nothing when everything is as desired (foreign tags are not drift)", () => {
    const plan = planInfra(want, asDesired(want));
    expect(planChanges(plan)).toBe(false);
    expect(planSteps(plan).map((s) => s.action)).toEqual(Array(10).fill("unchanged"));
    expect(statusOf(plan).ok).toBe(true);
  });

  it("creates everything in a fresh account, in dependency order", () => {
    const plan = planInfra(want, missing);
    expect(describePlan(plan).map((r) => [r.kind, r.action])).toEqual([
      ["bucket", "create"],
      ["role", "create"],
      ["role-policy", "create"],
      ["instance-profile", "create"],
      ["load-balancer-security-group", "create"],
      ["security-group", "create"],
      ["target-group", "create"],
      ["load-balancer", "create"],
      ["listener", "create"],
      ["api-key", "create"],
    ]);
    expect(plan.bucket.changes.map((c) => c.op)).toEqual([
      "create-bucket",
      "put-public-access-block",
      "put-encryption",
      "put-lifecycle",
      "put-tags",
      "put-policy",
    ]);
    expect(plan.securityGroup.changes).toEqual([
      { op: "create-security-group", vpcId: "vpc-1", reason: "does not exist" },
      expect.objectContaining({ op: "authorize-ingress", rules: want.securityGroup.ingress }),
    ]);
    expect(statusOf(plan).resources.every((r) => r.state === "missing")).toBe(true);
  });

  type Drift = [string, (o: InfraObservation) => void, string, RegExp];
  const drifts: Drift[] = [
    ["public access block off", (o) => o.bucket.state === "present" && (o.bucket.publicAccessBlock!.blockPublicPolicy = false), "put-public-access-block", /BlockPublicPolicy off/],
    ["no public access block", (o) => o.bucket.state === "present" && (o.bucket.publicAccessBlock = undefined), "put-public-access-block", /not set/],
    ["KMS instead of SSE-S3", (o) => o.bucket.state === "present" && (o.bucket.encryption = "aws:kms"), "put-encryption", /aws:kms, want AES256/],
    ["no bucket policy", (o) => o.bucket.state === "present" && (o.bucket.policy = undefined), "put-policy", /TLS only/],
    ["checkpoints kept 30 days", (o) => o.bucket.state === "present" && (o.bucket.lifecycleRules![1]!.expirationDays = 30), "put-lifecycle", /expire-checkpoints changed/],
    ["extra lifecycle rule", (o) => o.bucket.state === "present" && o.bucket.lifecycleRules!.push({ id: "mine", enabled: true, prefix: "" }), "put-lifecycle", /unexpected rule mine/],
    ["bucket untagged", (o) => o.bucket.state === "present" && (o.bucket.tags = {}), "put-tags", /SynktiCluster=acme missing/],
  ];
  it.each(drifts)("repairs the bucket: %s", (_, mutate, op, reason) => {
    const seen = asDesired(want);
    mutate(seen);
    const plan = planInfra(want, seen);
    expect(plan.bucket.action).toBe("update");
    expect(plan.bucket.changes).toEqual([expect.objectContaining({ op, reason: expect.stringMatching(reason) })]);
    expect(statusOf(plan).resources[0]).toMatchObject({ state: "drifted", detail: expect.stringMatching(reason) });
    expect(statusOf(plan).ok).toBe(false);
  });

  it("keeps tags others put on the bucket when adding its own", () => {
    const seen = asDesired(want);
    if (seen.bucket.state === "present") seen.bucket.tags = { Owner: "ops" };
    const change = planInfra(want, seen).bucket.changes[0];
    expect(change).toMatchObject({ op: "put-tags", tags: { Owner: "ops", SynktiCluster: "acme" } });
  });

  it("blocks, rather than plans, a bucket name owned by another account or a region without default VPC", () => {
    const plan = planInfra(want, { ...asDesired(want), bucket: { state: "foreign" }, securityGroup: { state: "no-default-vpc" } });
    expect(plan.bucket).toMatchObject({ action: "blocked", blocker: { remedy: expect.stringContaining("--project-name") } });
    expect(plan.securityGroup).toMatchObject({ action: "blocked", blocker: { remedy: "aws ec2 create-default-vpc --region us-east-1" } });
    expect(statusOf(plan).resources.filter((r) => r.state === "missing").map((r) => r.kind)).toEqual(["bucket", "security-group"]);
    void LB_GROUP;
  });

  it("repairs the role's trust policy and tags, the inline policy, and the profile's role", () => {
    const seen = asDesired(want);
    if (seen.role.state === "present") {
      seen.role.trustPolicy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }] };
      seen.role.tags = {};
    }
    seen.rolePolicy = { state: "present", document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] } };
    seen.instanceProfile = { state: "present", arn: "arn:p", roles: ["other-role"], tags: {} };
    const plan = planInfra(want, seen);
    expect(plan.role.changes.map((c) => c.op)).toEqual(["update-trust-policy", "tag-role"]);
    expect(plan.rolePolicy.changes).toEqual([{ op: "put-role-policy", document: want.rolePolicy.document, reason: expect.stringMatching(/differs .*1 unexpected statement/) }]);
    expect(plan.instanceProfile.changes.map((c) => c.op)).toEqual(["remove-role", "add-role", "tag-instance-profile"]);
  });

  it("revokes world-open and SSH rules and restores missing peer rules", () => {
    const seen = asDesired(want);
    if (seen.securityGroup.state !== "present") throw new Error("fixture");
    seen.securityGroup.ingress = [
      seen.securityGroup.ingress[0]!,
      { protocol: "tcp", fromPort: 22, toPort: 22, source: { kind: "cidr", cidr: "0.0.0.0/0" } },
      { protocol: "tcp", fromPort: 8000, toPort: 8000, source: { kind: "ipv6", cidr: "::/0" } },
    ];
    const plan = planInfra(want, seen);
    expect(plan.securityGroup.groupId).toBe(GROUP);
    expect(plan.securityGroup.changes).toEqual([
      {
        op: "authorize-ingress",
        rules: want.securityGroup.ingress.slice(1),
        reason: "missing tcp 8080 from the group itself, tcp 8000 from the load balancer's group, tcp 8080 from the load balancer's group",
      },
      {
        op: "revoke-ingress",
        rules: [seen.securityGroup.ingress[1], seen.securityGroup.ingress[2]],
        reason: "not allowed: tcp 22 from 0.0.0.0/0, tcp 8000 from ::/0",
      },
    ]);
  });
});

describe("TLS-only bucket policy on a plain-HTTP S3 endpoint (an emulator)", () => {
  const account = { accountId: "123456789012", partition: "aws", region: "us-east-1" };
  const overHttp = desiredInfra(projectNames("acme"), { ...account, plainHttpS3: true });

  it("is left out, since every request would be insecure transport and be denied", () => {
    expect(overHttp.bucket.policy).toBeUndefined();
    expect(want.bucket.policy?.Statement[0]?.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
  });

  it("is neither created with a new bucket nor reported missing on an existing one", () => {
    const created = planInfra(overHttp, { ...asDesired(want), bucket: { state: "missing" } });
    expect(created.bucket.changes.map((c) => c.op)).not.toContain("put-policy");
    const present = asDesired(want);
    if (present.bucket.state === "present") present.bucket.policy = undefined;
    expect(planInfra(overHttp, present).bucket.action).toBe("unchanged");
  });
});
