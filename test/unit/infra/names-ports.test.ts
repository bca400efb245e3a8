import { describe, expect, it } from "vitest";
import { clusterTags, elbName, projectNames, TAG_CLUSTER } from "../../../src/infra/names.js";
import { MODEL_SERVER_PORT, PEER_PORTS, STATUS_PORT } from "../../../src/infra/ports.js";
import { desiredInfra } from "../../../src/infra/desired.js";

describe("names of the permanent resources", () => {
  it("derive from the project name only", () => {
    const names = projectNames("acme");
    expect([names.bucket, names.role, names.instanceProfile, names.workerPolicy, names.securityGroup]).toEqual([
      "acme-models",
      "acme-synkti-worker",
      "acme-synkti-worker",
      "acme-synkti-worker",
      "acme-synkti-workers",
    ]);
    expect(clusterTags("acme")).toEqual({ [TAG_CLUSTER]: "acme" });
  });

  it("stay within AWS limits for the longest project name", () => {
    const names = projectNames("a".repeat(40));
    expect(names.bucket.length).toBeLessThanOrEqual(63); // S3
    expect(names.role.length).toBeLessThanOrEqual(64); // IAM role
    expect(names.instanceProfile.length).toBeLessThanOrEqual(128);
    expect(names.securityGroup.length).toBeLessThanOrEqual(255);
  });
});

describe("ports", () => {
  it("vLLM on its default 8000, status on 8080, both open only to peers and the load balancer's group", () => {
    expect(MODEL_SERVER_PORT).toBe(8000);
    expect(STATUS_PORT).toBe(8080);
    expect(PEER_PORTS.map((p) => p.port)).toEqual([8000, 8080]);
    const group = desiredInfra(projectNames("acme"), { accountId: "1", partition: "aws", region: "us-east-1" }).securityGroup;
    expect(group.ingress.map((rule) => [rule.source, rule.port])).toEqual([
      ["self", 8000],
      ["self", 8080],
      ["load-balancer", 8000],
      ["load-balancer", 8080],
    ]);
    expect(group.ingress.every((rule) => rule.protocol === "tcp")).toBe(true);
    expect(group.ingress.map((rule) => rule.port)).not.toContain(22);
  });
});

describe("load balancer and target group names (AWS: 32 characters, [a-zA-Z0-9-], no 'internal-' start, no '-' at either end)", () => {
  const valid = (name: string) =>
    name.length <= 32 && /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name) && !name.startsWith("internal-") && !name.includes("--");
  const projects = [
    "acme",
    "a".repeat(40),
    "internal-x",
    "internal-" + "b".repeat(31),
    "a--b",
    "x".repeat(20) + "-" + "y".repeat(19),
    "abcdefghijklmnopqrst-uvw-xyz",
  ];

  it.each(projects)("are valid for %s", (project) => {
    const names = projectNames(project);
    expect(valid(names.loadBalancer), names.loadBalancer).toBe(true);
    expect(valid(names.targetGroup), names.targetGroup).toBe(true);
  });

  it("keep a short name readable, and shorten a long one with a stable hash", () => {
    expect(projectNames("acme").loadBalancer).toBe("acme-synkti");
    expect(projectNames("acme").targetGroup).toBe("acme-synkti-vllm");
    const long = projectNames("a".repeat(40));
    expect(long.loadBalancer).toMatch(/^a{18}-[0-9a-f]{6}-synkti$/);
    expect(long.targetGroup).toMatch(/^a{13}-[0-9a-f]{6}-synkti-vllm$/);
    expect(projectNames("a".repeat(40)).loadBalancer).toBe(long.loadBalancer); // stable
    // Two long names sharing their first characters still differ.
    expect(projectNames("a".repeat(39) + "b").loadBalancer).not.toBe(long.loadBalancer);
  });

  it("never start with 'internal-', which AWS keeps for internal load balancers' DNS names", () => {
    expect(projectNames("internal-x").loadBalancer).toMatch(/^int-x-[0-9a-f]{6}-synkti$/);
    expect(elbName("internal-x", "synkti")).not.toBe(elbName("int-x", "synkti"));
  });

  it("keep the other names: the key's parameter under /synkti/<project>/ and the load balancer's group", () => {
    const names = projectNames("acme");
    expect(names.apiKeyParameter).toBe("/synkti/acme/api-key");
    expect(names.loadBalancerSecurityGroup).toBe("acme-synkti-lb");
  });
});
