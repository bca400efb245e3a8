/**
 * The allowed instance types and market in the worker policy: how `infra up --instance-types`
 * renders them, how a later run reads them back (the policy is the record), and the launch's
 * subset check.
 */
import { describe, expect, it } from "vitest";
import { SynktiError } from "../../../src/core/errors.js";
import {
  DEFAULT_COMPUTE,
  parseInstanceTypes,
  recordedCompute,
  resolveCompute,
  typesNotAllowed,
  withCompute,
} from "../../../src/infra/compute-policy.js";
import { desiredInfra } from "../../../src/infra/desired.js";
import { projectNames } from "../../../src/infra/names.js";
import { planRolePolicy } from "../../../src/infra/plan-iam.js";
import { policyVars, workerPolicy } from "../../../src/infra/policies.js";

const account = { accountId: "123456789012", partition: "aws", region: "eu-west-1" };
const names = projectNames("acme-llm");
const base = workerPolicy(policyVars(names, account));
const launch = (doc: typeof base) => doc.Statement.find((s) => s.Sid === "LaunchOnlyTaggedWorkers")!;
/** As IAM hands a document back: re-serialised. */
const asAws = (doc: unknown) => JSON.parse(JSON.stringify(doc));

describe("worker policy conditions for instance types and market", () => {
  it("conditions RunInstances on the allowed types, spot only unless on-demand is allowed", () => {
    const spot = launch(withCompute(base, { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: false }));
    expect(spot.Condition?.StringEquals).toMatchObject({ "ec2:InstanceType": ["g5.xlarge", "g6.xlarge"], "ec2:InstanceMarketType": "spot" });
    const both = launch(withCompute(base, { instanceTypes: ["g5.xlarge"], allowOnDemand: true }));
    expect(both.Condition?.StringEquals).toMatchObject({ "ec2:InstanceType": ["g5.xlarge"] });
    expect(both.Condition?.StringEquals).not.toHaveProperty("ec2:InstanceMarketType");
    // The project's tag conditions stay whatever the types.
    expect(both.Condition?.StringEquals).toMatchObject({ "aws:RequestTag/SynktiCluster": "acme-llm", "ec2:MetadataHttpTokens": "required" });
  });

  it("before any --instance-types: the template as it is (any type, spot only), and that is what it records", () => {
    expect(withCompute(base, DEFAULT_COMPUTE)).toEqual(base);
    expect(recordedCompute(asAws(base))).toEqual(DEFAULT_COMPUTE);
  });

  it("reads back what it wrote, whatever order or form AWS returns", () => {
    const written = { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: true };
    const doc = asAws(withCompute(base, written));
    launch(doc).Condition!.StringEquals!["ec2:InstanceType"] = ["g6.xlarge", "g5.xlarge"];
    expect(recordedCompute(doc)).toEqual(written);
    launch(doc).Condition!.StringEquals!["ec2:InstanceType"] = "g6.xlarge"; // IAM unwraps one-element lists
    expect(recordedCompute(doc).instanceTypes).toEqual(["g6.xlarge"]);
  });

  it("a flag left out keeps the record; a flag given replaces it", () => {
    const recorded = { instanceTypes: ["g5.xlarge"], allowOnDemand: true };
    expect(resolveCompute(recorded, {})).toEqual(recorded);
    expect(resolveCompute(recorded, { instanceTypes: ["g6.xlarge", "g5.xlarge"] })).toEqual({ instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: true });
    expect(resolveCompute(recorded, { allowOnDemand: false })).toEqual({ instanceTypes: ["g5.xlarge"], allowOnDemand: false });
  });

  it("parses --instance-types in order, without duplicates, and refuses a malformed name with the fix", () => {
    expect(parseInstanceTypes("--instance-types", "g6.xlarge, g5.xlarge,g6.xlarge", "fix")).toEqual(["g6.xlarge", "g5.xlarge"]);
    for (const bad of ["", ",", "G5.XLARGE", "g5", "g5.xlarge;rm"]) {
      const error = (() => {
        try {
          parseInstanceTypes("--instance-types", bad, "synkti infra up --instance-types g5.xlarge");
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(SynktiError);
      expect((error as SynktiError).kind).toBe("usage");
      expect((error as SynktiError).remedy).toBe("synkti infra up --instance-types g5.xlarge");
    }
  });

  it("a launch's types must be a subset of the allowed ones (no type recorded: any)", () => {
    const allowed = { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: false };
    expect(typesNotAllowed(["g6.xlarge", "g5.xlarge"], allowed)).toEqual([]);
    expect(typesNotAllowed(["g6.xlarge", "p4d.24xlarge"], allowed)).toEqual(["p4d.24xlarge"]);
    expect(typesNotAllowed(["p4d.24xlarge"], DEFAULT_COMPUTE)).toEqual([]);
  });
});

describe("planRolePolicy with instance types", () => {
  const want = (compute?: { instanceTypes?: string[]; allowOnDemand?: boolean }) => desiredInfra(names, account, {}, compute).rolePolicy;
  const present = (compute: typeof DEFAULT_COMPUTE) => ({ state: "present" as const, document: asAws(withCompute(base, compute)) });

  it("a re-run without the flags leaves a policy with types unchanged", () => {
    const step = planRolePolicy(want(), present({ instanceTypes: ["g5.xlarge"], allowOnDemand: true }));
    expect(step.action).toBe("unchanged");
  });

  it("new types rewrite the policy, keep the recorded market, and say what changes", () => {
    const step = planRolePolicy(want({ instanceTypes: ["g6.xlarge", "g5.xlarge"] }), present({ instanceTypes: ["g5.xlarge"], allowOnDemand: true }));
    expect(step.action).toBe("update");
    const change = step.changes[0]!;
    expect(change.reason).toBe("allowed instances: g5.xlarge, g6.xlarge; spot, on-demand allowed (was g5.xlarge; spot, on-demand allowed)");
    expect(recordedCompute(change.document)).toEqual({ instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: true });
  });

  it("a missing policy is created with the flags' types", () => {
    const step = planRolePolicy(want({ instanceTypes: ["g5.xlarge"] }), { state: "missing" });
    expect(step.action).toBe("create");
    expect(recordedCompute(step.changes[0]!.document)).toEqual({ instanceTypes: ["g5.xlarge"], allowOnDemand: false });
  });
});
