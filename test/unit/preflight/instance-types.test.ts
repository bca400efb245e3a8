/**
 * Preflight's verdict on a launch's instance types: allowed by the worker policy, offered, the
 * same GPU count, the image's architecture, and quotas per family and market. Pure verdicts over
 * observations shaped as AWS reports them.
 */
import { describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { deployerContext } from "../../../src/preflight/deployer/index.js";
import { typesVerdict, type TypesObservation } from "../../../src/preflight/deployer/instance-types.js";
import { FakeClock } from "../../support/fake-clock.js";

const ctx = (instanceTypes: string[], onDemandFallback = false, workers = 2) =>
  deployerContext({ clients: createAwsClients({ region: "us-east-1", role: "deployer" }), clock: new FakeClock() }, { project: "my-app", region: "us-east-1", workers, instanceTypes, onDemandFallback });
const x86 = (gpus: number, vcpus = 4) => ({ vcpus, gpus, architectures: ["x86_64"] });
const zones = ["us-east-1a", "us-east-1b"];
const G_SPOT = { known: true as const, quotaName: "All G and VT Spot Instance Requests", code: "L-3819A6DF", vcpus: 64 };
const G_OD = { known: true as const, quotaName: "Running On-Demand G and VT instances", code: "L-DB2E81BA", vcpus: 64 };
const seen = (over: Partial<TypesObservation> = {}): TypesObservation => ({
  policy: { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: false },
  imageArchitecture: "x86_64",
  types: [
    { type: "g5.xlarge", zones, info: x86(1) },
    { type: "g6.xlarge", zones, info: x86(1) },
  ],
  quotas: [{ market: "spot", quota: G_SPOT }],
  ...over,
});

describe("instance-types verdict", () => {
  it("passes allowed, offered types with the same GPU count, architecture and enough quota", () => {
    const finding = typesVerdict(seen(), ctx(["g5.xlarge", "g6.xlarge"]));
    expect(finding).toMatchObject({ status: "pass", observed: "g5.xlarge, g6.xlarge allowed, offered, 1 GPU(s) each" });
  });

  it("refuses a type the worker policy does not allow, with the infra up that allows it (keeping the allowed ones)", () => {
    const finding = typesVerdict(seen(), ctx(["g5.xlarge", "g6e.xlarge"]));
    expect(finding.status).toBe("fail");
    expect(finding.observed).toContain("g6e.xlarge not allowed by the worker policy");
    expect(finding.fix?.command).toBe("synkti infra up --project-name my-app --region us-east-1 --instance-types g5.xlarge,g6.xlarge,g6e.xlarge");
  });

  it("a policy without types allows any (as AWS would: no ec2:InstanceType condition)", () => {
    const finding = typesVerdict(seen({ policy: { instanceTypes: [], allowOnDemand: false } }), ctx(["g5.xlarge", "g6.xlarge"]));
    expect(finding.status).toBe("pass");
  });

  it("refuses --on-demand-fallback unless infra allowed on-demand", () => {
    const finding = typesVerdict(seen({ quotas: [{ market: "spot", quota: G_SPOT }, { market: "on-demand", quota: G_OD }] }), ctx(["g5.xlarge", "g6.xlarge"], true));
    expect(finding).toMatchObject({ status: "fail", fix: { command: "synkti infra up --project-name my-app --region us-east-1 --allow-on-demand" } });
    const allowed = seen({ policy: { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: true }, quotas: [{ market: "spot", quota: G_SPOT }, { market: "on-demand", quota: G_OD }] });
    expect(typesVerdict(allowed, ctx(["g5.xlarge", "g6.xlarge"], true)).status).toBe("pass");
  });

  it("refuses a type offered nowhere, with another GPU count, or another architecture; the fix drops it", () => {
    const nowhere = typesVerdict(seen({ types: [{ type: "g5.xlarge", zones, info: x86(1) }, { type: "g6.xlarge", zones: [], info: x86(1) }] }), ctx(["g5.xlarge", "g6.xlarge"]));
    expect(nowhere).toMatchObject({ status: "fail", observed: "g6.xlarge is offered in no availability zone of us-east-1" });
    expect(nowhere.fix?.command).toBe("synkti preflight --project-name my-app --region us-east-1");
    const gpus = typesVerdict(seen({ types: [{ type: "g5.xlarge", zones, info: x86(1) }, { type: "g6.xlarge", zones, info: x86(4) }] }), ctx(["g5.xlarge", "g6.xlarge"]));
    expect(gpus.status).toBe("fail");
    expect(gpus.observed).toContain("g6.xlarge has 4 GPU(s), g5.xlarge 1");
    const arm = typesVerdict(seen({ types: [{ type: "g5.xlarge", zones, info: x86(1) }, { type: "g6.xlarge", zones, info: { vcpus: 4, gpus: 1, architectures: ["arm64"] } }] }), ctx(["g5.xlarge", "g6.xlarge"]));
    expect(arm).toMatchObject({ status: "fail", observed: "g6.xlarge runs arm64, the image is x86_64" });
  });

  it("each family's quota must hold the workers plus one replacement of its largest type; on-demand too when allowed", () => {
    const big = seen({
      policy: { instanceTypes: ["g5.xlarge", "g5.2xlarge"], allowOnDemand: true },
      types: [
        { type: "g5.xlarge", zones, info: x86(1, 4) },
        { type: "g5.2xlarge", zones, info: x86(1, 8) },
      ],
      quotas: [{ market: "spot", quota: G_SPOT }, { market: "on-demand", quota: { ...G_OD, vcpus: 16 } }],
    });
    const finding = typesVerdict(big, ctx(["g5.xlarge", "g5.2xlarge"], true, 2));
    expect(finding.status).toBe("fail");
    expect(finding.observed).toContain("Running On-Demand G and VT instances: 16 vCPUs; 2 workers + 1 replacement of g5.xlarge/g5.2xlarge need 24");
    expect(finding.fix?.command).toContain("--quota-code L-DB2E81BA --desired-value 24");
  });

  it("a quota Service Quotas cannot read warns, except the first type's spot quota (spot-quota says it)", () => {
    const unknown = { known: false as const, quotaName: "x", code: "L-DB2E81BA", reason: "NoSuchResourceException" };
    const allowed = { instanceTypes: ["g5.xlarge", "g6.xlarge"], allowOnDemand: true };
    const finding = typesVerdict(seen({ policy: allowed, quotas: [{ market: "spot", quota: { ...unknown, code: "L-3819A6DF" } }, { market: "on-demand", quota: unknown }] }), ctx(["g5.xlarge", "g6.xlarge"], true));
    expect(finding.status).toBe("warn");
    expect(finding.observed).toContain("on-demand quota L-DB2E81BA not verified");
    expect(finding.observed).not.toContain("L-3819A6DF");
  });
});

describe("preflight fixes carry the instance flags", () => {
  it("repeats --instance-types and --on-demand-fallback, unless the fix names the type itself", async () => {
    const { preflightCommand } = await import("../../../src/preflight/deployer/context.js");
    const c = ctx(["g5.xlarge", "g6.xlarge"], true);
    expect(preflightCommand(c, ["--ami", "<ami-id>"])).toBe("synkti preflight --project-name my-app --region us-east-1 --instance-types g5.xlarge,g6.xlarge --on-demand-fallback --ami <ami-id>");
    expect(preflightCommand(c, ["--instance-type", "<instance-type>"])).toBe("synkti preflight --project-name my-app --region us-east-1 --on-demand-fallback --instance-type <instance-type>");
    expect(preflightCommand(ctx(["g6.xlarge"]), [])).toBe("synkti preflight --project-name my-app --region us-east-1 --instance-type g6.xlarge");
  });
});
