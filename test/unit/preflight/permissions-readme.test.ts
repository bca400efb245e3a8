import { describe, expect, it } from "vitest";
import { DEPLOYER_ACTIONS, INFRA_ACTIONS } from "../../../src/preflight/deployer/permissions.js";
import { listedActions as listed } from "../../support/readme-permissions.js";

describe("the permissions an administrator grants: one list, in the code, shown by the README", () => {
  it("the README lists exactly the actions preflight simulates, and infra's", () => {
    expect(listed("deployer-actions")).toEqual(DEPLOYER_ACTIONS);
    expect(listed("infra-actions")).toEqual(INFRA_ACTIONS);
  });

  it("no action twice, none in both lists", () => {
    const all = [...DEPLOYER_ACTIONS, ...INFRA_ACTIONS];
    expect(new Set(all).size).toBe(all.length);
  });

  it("the load balancer and the key the deployer now reads are simulated", () => {
    expect(DEPLOYER_ACTIONS).toEqual(expect.arrayContaining(["elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DeregisterTargets", "ssm:GetParameter"]));
  });
});
