import { describe, expect, it } from "vitest";
import { clusterTags, projectNames, TAG_CLUSTER } from "../../../src/infra/names.js";
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
