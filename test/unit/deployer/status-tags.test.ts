/**
 * `synkti status` from a laptop that cannot reach any worker (AWS: outside the VPC): what each
 * worker published on its own tags is still shown, a pending spot notice is never hidden behind
 * "healthy", and tag values a worker wrote are checked before they are shown.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { fleetStatus, projectStatus } from "../../../src/deployer/fleet/status.js";
import { readWorkerTags } from "../../../src/deployer/fleet/worker-tags.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";
import { FakeObjects } from "./fake-objects.js";
import { accessDenied, FakeLoadBalancer } from "./fake-load-balancer.js";
import { FakeConditional } from "./fake-conditional.js";

const worker = { SynktiCluster: "proj", SynktiRole: "worker", SynktiLaunch: "l-1" };
const NOW = Date.parse("2026-11-29T12:33:04Z");

describe("status from tags", () => {
  it("shows each worker's own state, model, notice and slot from its tags when none can be reached", async () => {
    const ec2 = new FakeEc2();
    const serving = ec2.add("us-east-1a", { ...worker, SynktiState: "serving", SynktiModel: "qwen-7b", SynktiEndpoint: "10.0.1.5:8080", SynktiSlot: "1" });
    const draining = ec2.add("us-east-1b", { ...worker, SynktiState: "draining", SynktiModel: "qwen-7b", SynktiEndpoint: "10.0.1.6:8080", SynktiNotice: "2026-11-29T12:34:56Z", SynktiReplaces: "i-0123456789abcdef0" });
    const unreachable = async () => ({ health: "unreachable" as const, detail: "connect ETIMEDOUT" });
    const { workers } = await fleetStatus({ ec2, clock: instantClock(NOW), log: silentLogger, askHealth: unreachable }, "proj");
    const byId = Object.fromEntries(workers.map((w) => [w.instanceId, w]));
    expect(byId[serving]).toMatchObject({ state: "running", workerState: "serving", model: "qwen-7b", notice: null, slot: 1, health: "unreachable", healthDetail: "connect ETIMEDOUT; its own tag says serving" });
    expect(byId[draining]).toMatchObject({
      workerState: "draining",
      notice: "2026-11-29T12:34:56.000Z",
      replaces: "i-0123456789abcdef0",
      health: "unreachable",
      healthDetail: "spot notice: reclaim at 2026-11-29T12:34:56.000Z; connect ETIMEDOUT; its own tag says draining",
    });
  });

  it("never reports a worker with a pending notice as healthy and nothing else", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", { ...worker, SynktiState: "serving", SynktiEndpoint: "127.0.0.2:8080", SynktiNotice: "2026-11-29T12:34:56Z" });
    const healthy = async () => ({ health: "healthy" as const, detail: null });
    const [w] = (await fleetStatus({ ec2, clock: instantClock(NOW), log: silentLogger, askHealth: healthy }, "proj")).workers;
    expect(w).toMatchObject({ health: "healthy", notice: "2026-11-29T12:34:56.000Z", healthDetail: "spot notice: reclaim at 2026-11-29T12:34:56.000Z" });
  });

  it("does not call a rebalance recommendation's issue time (in the past) a reclaim time", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", { ...worker, SynktiState: "serving", SynktiEndpoint: "127.0.0.2:8080", SynktiNotice: "2026-11-29T12:30:00Z" });
    const healthy = async () => ({ health: "healthy" as const, detail: null });
    const [w] = (await fleetStatus({ ec2, clock: instantClock(NOW), log: silentLogger, askHealth: healthy }, "proj")).workers;
    expect(w).toMatchObject({ health: "healthy", notice: "2026-11-29T12:30:00.000Z", healthDetail: "interruption risk since 2026-11-29T12:30:00.000Z (a rebalance recommendation, or a reclaim already due)" });
  });

  it("cleans a live answer's detail (it may quote what the worker claimed) before it is shown", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", { ...worker, SynktiState: "serving", SynktiEndpoint: "127.0.0.2:8080" });
    const wrong = async () => ({ health: "unknown" as const, detail: "127.0.0.2:8080 answered as i-x\u001b]0;pwned\u0007\u001b[2J" });
    const [w] = (await fleetStatus({ ec2, clock: instantClock(NOW), log: silentLogger, askHealth: wrong }, "proj")).workers;
    expect(w!.healthDetail).toBe("127.0.0.2:8080 answered as i-x");
  });

  it("shows a tag value outside the contract as absent, and a notice with an unreadable time as pending", () => {
    expect(readWorkerTags({ SynktiPlan: "pwned", SynktiState: "pwned\u001b[2J", SynktiNotice: "soon", SynktiSlot: "-1", SynktiReplaces: "i-../../x", SynktiEndpoint: "evil.example:80", SynktiModel: "m\u001b]0;title\u0007odel\r" })).toEqual({
      workerState: null,
      notice: "unknown",
      model: "model",
      slot: null,
      replaces: null,
      endpoint: null,
      planTag: null,
    });
    expect(readWorkerTags({})).toEqual({ workerState: null, notice: null, model: null, slot: null, replaces: null, endpoint: null, planTag: null });
  });

  it("reads SynktiSlot as the workers' census does: a value their repair counts as no slot shows none", () => {
    for (const odd of ["0x10", "01", " 1", "1e1", "1.0", "+2", "10000"]) expect(readWorkerTags({ SynktiSlot: odd }).slot).toBeNull();
    expect(readWorkerTags({ SynktiSlot: "0" }).slot).toBe(0);
    expect(readWorkerTags({ SynktiSlot: "9999" }).slot).toBe(9999);
  });

  it("projectStatus adds the recent failures; without the bucket the workers still show and failures say why", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", { ...worker, SynktiState: "booting" });
    const objects = new FakeObjects("proj-models");
    objects.put("checkpoints/logs/i-0123456789abcdef0.json", JSON.stringify({ instanceId: "i-0123456789abcdef0", at: "2026-11-29T12:00:00Z", exitCode: 1, reason: "binary SHA-256 mismatch" }), new Date(NOW - 60_000));
    const clock = instantClock(NOW);
    const deps = { ec2, objects, clock, lb: new FakeLoadBalancer(clock), conditional: new FakeConditional("proj-models"), log: silentLogger, askHealth: async () => ({ health: "unknown" as const, detail: null }) };
    const status = await projectStatus(deps, "proj");
    expect(status).toMatchObject({ failures: [{ instanceId: "i-0123456789abcdef0", at: "2026-11-29T12:00:00.000Z", exitCode: 1, reason: "binary SHA-256 mismatch" }], failuresUnavailable: null });
    expect(status.workers).toHaveLength(1);

    const missing = await projectStatus({ ...deps, objects: new FakeObjects("another-bucket") }, "proj");
    expect(missing.workers).toHaveLength(1);
    expect(missing).toMatchObject({ failures: [], failuresUnavailable: "bucket proj-models does not exist (synkti infra up --project-name proj)" });

    const denied = new FakeObjects("proj-models");
    denied.failWith = Object.assign(new Error("Access Denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    const refused = await projectStatus({ ...deps, objects: denied }, "proj");
    expect(refused.workers).toHaveLength(1);
    expect(refused.failuresUnavailable).toMatch(/^AWS refused the request while listing failure records in s3:\/\/proj-models\/checkpoints\/logs\/ \(AccessDenied\)/);
  });

  it("projectStatus adds the load balancer's URL and every registered target's state; never fails for it", async () => {
    const ec2 = new FakeEc2();
    const id = ec2.add("us-east-1a", { ...worker, SynktiState: "serving" });
    const clock = instantClock(NOW);
    const lb = new FakeLoadBalancer(clock);
    lb.register(id, "healthy");
    lb.register("i-0000000000000dead", "unhealthy", { reason: "Target.FailedHealthChecks", description: "Health checks failed" });
    const deps = { ec2, objects: new FakeObjects("proj-models"), clock, lb, conditional: new FakeConditional("proj-models"), log: silentLogger, askHealth: async () => ({ health: "unknown" as const, detail: null }) };
    const status = await projectStatus(deps, "proj");
    expect(status.loadBalancer).toEqual({
      url: "http://demo-synkti-1234567890.us-east-1.elb.amazonaws.com",
      targets: [
        { instanceId: "i-0000000000000dead", state: "unhealthy", reason: "Target.FailedHealthChecks", description: "Health checks failed" },
        { instanceId: id, state: "healthy", reason: null, description: null },
      ],
    });
    expect(status.loadBalancerUnavailable).toBeNull();
    lb.view!.listeners.push({ protocol: "HTTPS", port: 443 });
    expect((await projectStatus(deps, "proj")).loadBalancer?.url).toBe("https://demo-synkti-1234567890.us-east-1.elb.amazonaws.com");
    expect((await projectStatus(deps, "proj", { urlOverride: "http://127.0.0.1:9999" })).loadBalancer?.url).toBe("http://127.0.0.1:9999");

    lb.failWith.targetHealth = accessDenied("DescribeTargetHealth");
    const refused = await projectStatus(deps, "proj");
    expect(refused.workers).toHaveLength(1);
    expect(refused.loadBalancer).toBeNull();
    expect(refused.loadBalancerUnavailable).toMatch(/^AWS refused the request while reading load balancer proj-synkti \(AccessDenied\)/);

    lb.view = undefined;
    const none = await projectStatus(deps, "proj");
    expect(none).toMatchObject({ loadBalancer: null, loadBalancerUnavailable: "no load balancer proj-synkti (synkti infra up --project-name proj)" });
    expect(none.workers).toHaveLength(1);
  });
});
