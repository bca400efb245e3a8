import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { launchRequest, resumeFrom, toStateFile, initialState } from "../../../src/failover/index.js";
import type { FailoverSettings } from "../../../src/failover/index.js";
import { runInstancesInput } from "../../../src/aws/ec2-instances.js";
import { launchTypesFrom, offeredIn, replacementRunSpec, type ReplacementTemplate } from "../../../src/worker/failover/replacement-spec.js";
import { fileStateStore, STATE_FILE_NAME } from "../../../src/worker/failover/state-store.js";
import { workerFailoverPorts } from "../../../src/worker/failover/ports.js";
import type { AwsClients } from "../../../src/aws/clients.js";
import type { Ec2Instances } from "../../../src/aws/ec2-instances.js";
import { silentLogger } from "../../../src/core/log.js";

const template: ReplacementTemplate = {
  project: "demo",
  model: "tiny",
  imageId: "ami-1",
  securityGroupId: "sg-1",
  instanceProfileName: "demo-synkti-worker",
  userData: "#!/bin/bash\necho hi\n",
  subnets: { "us-east-1a": "subnet-a", "us-east-1b": "subnet-b" },
  rootVolume: { deviceName: "/dev/sda1", sizeGiB: 120 },
  launchTypes: { instanceTypes: ["g5.xlarge", "g6.xlarge"], onDemandFallback: false },
};
const doomed = { instanceId: "i-doomed", instanceType: "g5.xlarge", zone: "us-east-1a" };
const settings: FailoverSettings = { project: "demo", doomed, instanceTypes: ["g5.xlarge"], onDemandFallback: false, healthBudgetMs: 60_000, healthPollMs: 1000, throttleBackoffMs: 500, failureMemoryMs: 600_000 };

describe("the replacement's request", () => {
  it("is the launch's run spec in the chosen pool's subnet, with the failover's token and tags on top of the launch's", () => {
    const request = launchRequest("demo", doomed, { instanceType: "g5.xlarge", zone: "us-east-1b", market: "spot" });
    const spec = replacementRunSpec(template, request);
    expect(spec).toMatchObject({ imageId: "ami-1", instanceType: "g5.xlarge", subnetId: "subnet-b", securityGroupId: "sg-1", instanceProfileName: "demo-synkti-worker", userData: template.userData, clientToken: request.clientToken, rootVolume: template.rootVolume, metadataHopLimit: 1 });
    expect(spec.tags).toEqual({ SynktiCluster: "demo", SynktiRole: "worker", SynktiLaunch: "r-i-doomed", SynktiState: "booting", SynktiModel: "tiny", Name: "demo-worker", SynktiReplaces: "i-doomed", SynktiInstanceTypes: "g5.xlarge,g6.xlarge" });
    expect(request.clientToken).toMatch(/^[0-9a-f]{64}$/);
    // Spot, as every launch.
    expect(runInstancesInput(spec).InstanceMarketOptions?.MarketType).toBe("spot");
  });

  it("in the second type, and on-demand as the last resort: no spot option, no spot-request tags, the launch's list carried on", () => {
    const onDemand = { ...template, launchTypes: { instanceTypes: ["g5.xlarge", "g6.xlarge"], onDemandFallback: true } };
    const request = launchRequest("demo", doomed, { instanceType: "g6.xlarge", zone: "us-east-1a", market: "on-demand" });
    const input = runInstancesInput(replacementRunSpec(onDemand, request));
    expect(input.InstanceType).toBe("g6.xlarge");
    expect(input.InstanceMarketOptions).toBeUndefined();
    expect(input.TagSpecifications?.map((t) => t.ResourceType)).toEqual(["instance", "volume"]);
    expect(input.TagSpecifications?.[0]?.Tags).toEqual(expect.arrayContaining([{ Key: "SynktiInstanceTypes", Value: "g5.xlarge,g6.xlarge" }, { Key: "SynktiOnDemandFallback", Value: "true" }]));
  });
});

describe("the launch port", () => {
  it("launches nothing once synkti down has begun, however recent SELECT's look was", async () => {
    const runs: unknown[] = [];
    const instances = { run: async (spec: unknown) => (runs.push(spec), { instanceId: "i-new" }) } as unknown as Ec2Instances;
    const ports = (down: boolean) =>
      workerFailoverPorts({
        clients: {} as AwsClients,
        instances,
        log: silentLogger,
        project: "demo",
        selfId: "i-doomed",
        template: async () => template,
        targetGroupArn: undefined,
        hooks: { drain: async () => ({ inFlight: 0 }), stopModelServer: async () => {}, terminateSelf: async () => {} },
        downBegun: async () => down,
      });
    const request = launchRequest("demo", doomed, { instanceType: "g5.xlarge", zone: "us-east-1b", market: "spot" });
    expect(await ports(true).launch(request, new AbortController().signal)).toMatchObject({ failure: "refused", message: expect.stringContaining("synkti down") });
    expect(runs).toHaveLength(0);
    expect(await ports(false).launch(request, new AbortController().signal)).toEqual({ instanceId: "i-new" });
    expect(runs).toHaveLength(1);
  });
});

describe("the launch's instance types, from the worker's own tags", () => {
  it("a pool of another type is asked for only in the zones offering that type", () => {
    const known = { ...template, offeredZones: { "g6.xlarge": ["us-east-1b"] } };
    expect(offeredIn(known, "g6.xlarge", "us-east-1b")).toBe(true);
    expect(offeredIn(known, "g6.xlarge", "us-east-1a")).toBe(false);
    // Its own type: every zone of the template (those were read offering it).
    expect(offeredIn(known, "g5.xlarge", "us-east-1a")).toBe(true);
  });

  it("keeps the launch's order; without the tags, this worker's own type, spot only", () => {
    expect(launchTypesFrom("g6.xlarge,g5.xlarge", "true", "g5.xlarge")).toEqual({ instanceTypes: ["g6.xlarge", "g5.xlarge"], onDemandFallback: true });
    expect(launchTypesFrom(undefined, undefined, "g5.xlarge")).toEqual({ instanceTypes: ["g5.xlarge"], onDemandFallback: false });
    expect(launchTypesFrom(" , ", "false", "g5.xlarge")).toEqual({ instanceTypes: ["g5.xlarge"], onDemandFallback: false });
  });
});

describe("the state file on local disk", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const fresh = () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), "synkti-state-")), "nested");
    dirs.push(path.dirname(dir));
    return dir;
  };

  it("saves and loads what the runner resumes from (the directory made on first save)", async () => {
    const dir = fresh();
    const store = fileStateStore(dir);
    expect(await store.load()).toBeUndefined();
    const state = { ...initialState(settings), status: "running" as const, noticeIds: ["n1"] };
    await store.save(toStateFile(state, 1000));
    expect(JSON.parse(readFileSync(path.join(dir, STATE_FILE_NAME), "utf8")).state.noticeIds).toEqual(["n1"]);
    expect(resumeFrom(settings, await store.load())).toMatchObject({ resumed: true, state: { status: "running", noticeIds: ["n1"] } });
  });

  it("a file that does not parse is ignored with a reason, not a crash", async () => {
    const dir = fresh();
    const store = fileStateStore(dir);
    await store.save(toStateFile(initialState(settings), 1));
    writeFileSync(path.join(dir, STATE_FILE_NAME), "{ half a fi");
    const { resumed, problem } = resumeFrom(settings, await store.load());
    expect(resumed).toBe(false);
    expect(problem).toMatch(/state file unreadable/);
  });
});
