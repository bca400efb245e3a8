/**
 * `infra up --instance-types a,b [--allow-on-demand]` against moto: the types land in the worker
 * policy as IAM stores it, a re-run without the flags keeps them (the policy is the record), a run
 * with other flags changes only what they name, and `infra status` judges by the record.
 */
import { GetRolePolicyCommand } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { infraStatus, infraUp, recordedCompute } from "../../../src/infra/index.js";
import { deployerContext } from "../../../src/preflight/deployer/index.js";
import { instanceTypesAllowed } from "../../../src/preflight/deployer/instance-types.js";
import type { ProjectNames } from "../../../src/infra/names.js";
import { startInfraHarness, type InfraHarness } from "./harness.js";

let h: InfraHarness;
beforeAll(async () => {
  h = await startInfraHarness();
});
afterAll(async () => h?.close());

async function storedPolicy(names: ProjectNames) {
  const inline = await h.iam.send(new GetRolePolicyCommand({ RoleName: names.role, PolicyName: names.workerPolicy }));
  return JSON.parse(decodeURIComponent(inline.PolicyDocument ?? ""));
}
const launchStatement = (doc: { Statement: Array<{ Sid?: string; Condition?: Record<string, Record<string, unknown>> }> }) => doc.Statement.find((s) => s.Sid === "LaunchOnlyTaggedWorkers")!;
const roleAction = (result: Awaited<ReturnType<typeof infraUp>>) => result.resources.find((r) => r.kind === "role-policy")!;

describe("infra up --instance-types against moto", () => {
  it("writes the types into the worker policy; a re-run without the flags keeps them; new flags change only what they name", async () => {
    const names = h.project("types");
    await infraUp(h.deps(), names, { compute: { instanceTypes: ["g6.xlarge", "g5.xlarge"] } });
    let doc = await storedPolicy(names);
    expect(launchStatement(doc).Condition?.StringEquals).toMatchObject({ "ec2:InstanceType": ["g5.xlarge", "g6.xlarge"], "ec2:InstanceMarketType": "spot" });

    const again = await infraUp(h.deps(), names);
    expect(again.changed).toBe(false);
    expect(recordedCompute(await storedPolicy(names))).toEqual({ instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: false });
    expect((await infraStatus(h.deps(), names)).ok).toBe(true);

    const onDemand = await infraUp(h.deps(), names, { compute: { allowOnDemand: true } });
    expect(roleAction(onDemand)).toMatchObject({ action: "updated", changes: ["allowed instances: g5.xlarge, g6.xlarge; spot, on-demand allowed (was g5.xlarge, g6.xlarge; spot only)"] });
    doc = await storedPolicy(names);
    expect(launchStatement(doc).Condition?.StringEquals).not.toHaveProperty("ec2:InstanceMarketType");
    expect(recordedCompute(doc)).toEqual({ instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: true });

    const dry = await infraUp(h.deps(), names, { dryRun: true, compute: { instanceTypes: ["g5.xlarge"] } });
    expect(roleAction(dry)).toMatchObject({ action: "update" });
    expect(recordedCompute(await storedPolicy(names)).instanceTypes).toEqual(["g5.xlarge", "g6.xlarge"]); // a dry run changes nothing
  }, 120_000);
});

describe("preflight's instance-types requirement against moto", () => {
  const judge = async (project: string, instanceTypes: string[], onDemandFallback = false) => {
    const ctx = deployerContext({ clients: h.deps().clients, clock: h.deps().clock }, { project, region: "us-east-1", workers: 2, instanceTypes, onDemandFallback });
    return instanceTypesAllowed.verdict(await instanceTypesAllowed.observe(ctx, new AbortController().signal), ctx);
  };

  it("reads the policy's record, GPU counts and architectures as AWS reports them", async () => {
    const names = h.project("pf-types");
    await infraUp(h.deps(), names, { compute: { instanceTypes: ["g5.xlarge", "g6.xlarge", "g5.12xlarge", "g5g.xlarge"] } });
    // moto's Service Quotas knows no EC2 quota: the first type's is spot-quota's warning, so a pass here.
    expect(await judge(names.project, ["g5.xlarge", "g6.xlarge"])).toMatchObject({ status: "pass" });
    expect(await judge(names.project, ["g5.xlarge", "p4d.24xlarge"])).toMatchObject({ status: "fail", observed: expect.stringContaining("p4d.24xlarge not allowed") });
    expect(await judge(names.project, ["g5.xlarge", "g5.12xlarge"])).toMatchObject({ status: "fail", observed: expect.stringContaining("g5.12xlarge has 4 GPU(s), g5.xlarge 1") });
    expect(await judge(names.project, ["g5.xlarge", "g5g.xlarge"])).toMatchObject({ status: "fail", observed: expect.stringContaining("g5g.xlarge runs arm64") });
    expect(await judge(names.project, ["g5.xlarge"], true)).toMatchObject({ status: "fail", fix: { command: expect.stringContaining("--allow-on-demand") } });
  }, 120_000);
});
