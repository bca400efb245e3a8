import { describe, expect, it } from "vitest";
import { isSynktiError } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/core/log.js";
import { launchWorkers, newLaunchId } from "../../../src/deployer/launch/launch.js";
import type { LaunchTarget } from "../../../src/deployer/launch/types.js";
import { FakeEc2, instantClock, ZONES } from "./fake-ec2.js";

const target = (ec2: FakeEc2): LaunchTarget => ({
  project: "proj",
  model: "m",
  region: "us-east-1",
  instanceType: "g5.xlarge",
  imageId: "ami-dca37ea5",
  securityGroupId: "sg-fake",
  instanceProfile: "proj-synkti-worker",
  subnets: Object.fromEntries(ec2.zones.map((z) => [z, `subnet-${z}`])),
  userData: "#!/bin/bash\n",
  binarySha256: "a".repeat(64),
});
const workers = { SynktiCluster: "proj", SynktiRole: "worker" };
const setup = () => {
  const ec2 = new FakeEc2();
  return { ec2, deps: { ec2, clock: instantClock(), log: silentLogger } };
};
const failure = async (p: Promise<unknown>) => p.then(() => { throw new Error("expected a failure"); }, (e: unknown) => e);

describe("launchWorkers", () => {
  it("launches the difference into the lowest empty slots, spread over zones, each instance tagged, spot one-time, IMDSv2", async () => {
    const { ec2, deps } = setup();
    ec2.add("us-east-1a", { ...workers, SynktiLaunch: "l-old" });
    const result = await launchWorkers(deps, { target: target(ec2), workers: 3, launchId: "l-new" });
    expect(result).toMatchObject({ launchId: "l-new", desired: 3, existing: 1, fallbacks: [] });
    expect(result.launched.map((l) => l.availabilityZone)).toEqual(["us-east-1b", "us-east-1c"]);
    // The untagged worker (an older synkti) holds slot 0 virtually: the new ones fill 1 and 2.
    expect(result.launched.map((l) => l.slot).sort()).toEqual([1, 2]);
    expect(result.workers).toHaveLength(3);
    expect(ec2.live(workers)).toHaveLength(3);
    expect(ec2.runSpecs.map((s) => s.tags.SynktiSlot).sort()).toEqual(["1", "2"]);
    for (const spec of ec2.runSpecs) {
      expect(spec.tags).toEqual({ ...workers, SynktiLaunch: "l-new", SynktiState: "booting", SynktiModel: "m", SynktiSlot: spec.tags.SynktiSlot, Name: "proj-worker", SynktiInstanceTypes: "g5.xlarge" });
      expect(spec.metadataHopLimit).toBe(1);
    }
    expect(new Set(ec2.runSpecs.map((s) => s.clientToken)).size).toBe(2);
  });

  it("a re-run launches nothing and says so", async () => {
    const { ec2, deps } = setup();
    await launchWorkers(deps, { target: target(ec2), workers: 2 });
    const again = await launchWorkers(deps, { target: target(ec2), workers: 2 });
    expect(again).toMatchObject({ launchId: null, launched: [], existing: 2 });
    expect(again.message).toMatch(/launching nothing/);
    expect(ec2.calls.run).toBe(2);
  });

  it("does not count workers marked as stopping (a down in progress)", async () => {
    const { ec2, deps } = setup();
    ec2.add("us-east-1a", { ...workers, SynktiStopping: "true" });
    const result = await launchWorkers(deps, { target: target(ec2), workers: 1 });
    expect(result.existing).toBe(0);
    expect(result.launched).toHaveLength(1);
  });

  it("moves a worker to the next zone when one has no capacity, and says so", async () => {
    const { ec2, deps } = setup();
    ec2.capacityIn.add("us-east-1a");
    const result = await launchWorkers(deps, { target: target(ec2), workers: 3, concurrency: 1 });
    expect(result.fallbacks[0]).toEqual({ from: "us-east-1a", to: "us-east-1b", error: "InsufficientInstanceCapacity" });
    expect(result.launched.map((l) => l.availabilityZone).sort()).toEqual(["us-east-1b", "us-east-1b", "us-east-1c"].sort());
    // The exhausted zone is not tried again by later workers of the same launch.
    expect(ec2.runSpecs.filter((s) => s.subnetId === "subnet-us-east-1a")).toHaveLength(1);
  });

  it("no capacity anywhere: exit-1 error naming the zones, and the instances it made are terminated", async () => {
    const { ec2, deps } = setup();
    ec2.capacityIn.add("us-east-1b").add("us-east-1c");
    const run = launchWorkers(deps, { target: target(ec2), workers: 3, concurrency: 1 });
    // 1a works once, then is "exhausted" too after the first success: make it fail from the 2nd call.
    const originalRun = ec2.run.bind(ec2);
    let calls = 0;
    ec2.run = async (spec, signal) => {
      if (spec.subnetId === "subnet-us-east-1a" && ++calls > 1) ec2.capacityIn.add("us-east-1a");
      return originalRun(spec, signal);
    };
    const error = await failure(run);
    expect(isSynktiError(error) && error.kind).toBe("unsafe");
    expect(String((error as Error).message)).toMatch(/No spot capacity for g5\.xlarge .*us-east-1a \(InsufficientInstanceCapacity\)/);
    expect(String((error as Error).message)).toMatch(/Undid launch .*: terminated i-/);
    expect(ec2.live(workers)).toHaveLength(0);
  });

  it("Ctrl-C mid-launch: launches nothing more, waits for calls in flight, terminates them all, exits 130", async () => {
    const { ec2, deps } = setup();
    const before = ec2.add("us-east-1a", { ...workers, SynktiLaunch: "l-old" });
    let open!: () => void;
    ec2.gate = new Promise((resolve) => (open = resolve));
    const controller = new AbortController();
    const run = launchWorkers(deps, { target: target(ec2), workers: 6, concurrency: 2, signal: controller.signal });
    while ((ec2.calls.run ?? 0) < 2) await new Promise((r) => setTimeout(r, 1));
    controller.abort(new Error("SIGINT"));
    open();
    const error = await failure(run);
    expect(isSynktiError(error) && error.kind).toBe("interrupted");
    expect((error as Error).message).toMatch(/^Interrupted\. Undid launch .*: terminated i-\w+, i-\w+; nothing else was touched\.$/);
    expect(ec2.calls.run).toBe(2);
    expect(ec2.live(workers).map((i) => i.instanceId)).toEqual([before]);
  });

  it("second Ctrl-C abandons calls in flight; their instances are still found by the launch tag", async () => {
    const { ec2, deps } = setup();
    ec2.gate = new Promise(() => {}); // RunInstances never answers
    const first = new AbortController();
    const second = new AbortController();
    const run = launchWorkers(deps, { target: target(ec2), workers: 2, signal: first.signal, forceSignal: second.signal });
    while ((ec2.calls.run ?? 0) < 2) await new Promise((r) => setTimeout(r, 1));
    // AWS processed one request although its answer never came back.
    const ghost = ec2.add("us-east-1a", { ...workers, SynktiLaunch: ec2.runSpecs[0]!.tags.SynktiLaunch! });
    first.abort();
    second.abort();
    const error = await failure(run);
    expect(isSynktiError(error) && error.kind).toBe("interrupted");
    expect(ec2.instances.get(ghost)?.state).toBe("terminated");
  });

  it("an AWS error other than capacity undoes the launch and keeps its own exit code", async () => {
    const { ec2, deps } = setup();
    const originalRun = ec2.run.bind(ec2);
    let n = 0;
    ec2.run = async (spec, signal) => {
      if (++n === 2) throw Object.assign(new Error("not allowed"), { name: "UnauthorizedOperation", $metadata: { httpStatusCode: 403 } });
      return originalRun(spec, signal);
    };
    const error = await failure(launchWorkers(deps, { target: target(ec2), workers: 2, concurrency: 1 }));
    expect(isSynktiError(error) && error.kind).toBe("unobservable");
    expect((error as Error).message).toMatch(/UnauthorizedOperation.*Undid launch/);
    expect(ec2.live(workers)).toHaveLength(0);
  });

  it("an instance that ends before running fails the launch (spot capacity reclaimed)", async () => {
    const { ec2, deps } = setup();
    const originalRun = ec2.run.bind(ec2);
    ec2.run = async (spec, signal) => {
      const instance = await originalRun(spec, signal);
      ec2.instances.get(instance.instanceId)!.state = "shutting-down";
      return instance;
    };
    const error = await failure(launchWorkers(deps, { target: target(ec2), workers: 1 }));
    expect((error as Error).message).toMatch(/ended before it was running/);
  });

  it("Ctrl-C before the first RunInstances (even mid-call): 'Nothing was launched', exit 130", async () => {
    const { ec2, deps } = setup();
    const aborted = AbortSignal.abort(new Error("SIGINT"));
    const early = await failure(launchWorkers(deps, { target: target(ec2), workers: 2, signal: aborted }));
    expect(isSynktiError(early) && [early.kind, early.message]).toEqual(["interrupted", "Interrupted. Nothing was launched."]);
    const controller = new AbortController();
    ec2.describe = async () => {
      controller.abort(new Error("SIGINT"));
      throw Object.assign(new Error("Request aborted"), { name: "AbortError" });
    };
    const mid = await failure(launchWorkers(deps, { target: target(ec2), workers: 2, signal: controller.signal }));
    expect(isSynktiError(mid) && mid.message).toBe("Interrupted. Nothing was launched.");
    expect(ec2.calls.run).toBeUndefined();
  });

  it("refuses to start when no zone can take the workers (nothing to undo)", async () => {
    const { ec2, deps } = setup();
    const error = await failure(launchWorkers(deps, { target: { ...target(ec2), subnets: {} }, workers: 1 }));
    expect(isSynktiError(error) && [error.kind, error.code]).toEqual(["unsafe", "no-zone"]);
    expect(ec2.calls.run).toBeUndefined();
  });

  it("a lost RunInstances answer fails the launch, and the instance it made is still found and ended", async () => {
    const { ec2, deps } = setup();
    ec2.loseAnswers = true;
    const error = await failure(launchWorkers(deps, { target: target(ec2), workers: 1 }));
    expect((error as Error).message).toMatch(/Undid launch .*: terminated i-/);
    expect(ec2.live(workers)).toHaveLength(0);
  });

  it("launch ids sort by time and are unique", () => {
    const t = Date.parse("2026-03-04T05:06:07Z");
    expect(newLaunchId(t)).toMatch(/^l-20260304-050607-[0-9a-f]{6}$/);
    expect(newLaunchId(t)).not.toBe(newLaunchId(t));
    expect(ZONES).toHaveLength(3);
    // Later launches sort after earlier ones, also across a day boundary.
    expect(newLaunchId(t) < newLaunchId(t + 1000)).toBe(true);
    const lastSecondOfDay = Date.parse("2026-03-04T23:59:59Z");
    expect(newLaunchId(lastSecondOfDay) < newLaunchId(lastSecondOfDay + 1000)).toBe(true);
  });
});
