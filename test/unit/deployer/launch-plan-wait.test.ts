/**
 * The launch's plan (what is shown and asked before acquiring), its model check, and --wait's loop,
 * against the in-memory EC2 and a clock whose sleeps pass at once.
 */
import { describe, expect, it } from "vitest";
import type { SpotPrices } from "../../../src/aws/spot-prices.js";
import { isSynktiError, type SynktiError } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/core/log.js";
import { launchWorkers, prepareLaunch } from "../../../src/deployer/launch/launch.js";
import { planLaunch } from "../../../src/deployer/launch/plan.js";
import { buildProposal, proposalQuestion, renderProposal } from "../../../src/deployer/launch/proposal.js";
import type { LaunchTarget } from "../../../src/deployer/launch/types.js";
import { describeProgress, waitUntilServing } from "../../../src/deployer/launch/wait-serving.js";
import { parseDuration } from "../../../src/cli/parse.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";

const workers = { SynktiCluster: "proj", SynktiRole: "worker" };
const target = (ec2: FakeEc2, model = "tiny"): LaunchTarget => ({
  project: "proj",
  model,
  region: "us-east-1",
  instanceType: "g5.xlarge",
  imageId: "ami-1",
  securityGroupId: "sg-fake",
  instanceProfile: "proj-synkti-worker",
  subnets: Object.fromEntries(ec2.zones.map((z) => [z, `subnet-${z}`])),
  userData: "#!/bin/bash\n",
  binarySha256: "a".repeat(64),
});
const prices = (table: Record<string, number>, calls: string[][] = []): SpotPrices => ({
  current: async (_type, zones) => {
    calls.push(zones);
    return Object.fromEntries(zones.filter((z) => z in table).map((z) => [z, table[z]!]));
  },
});
const failure = async (p: Promise<unknown>): Promise<SynktiError> =>
  p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => {
      if (!isSynktiError(e)) throw e;
      return e;
    },
  );

describe("the launch plan: count, type, zones, spot price, hourly estimate", () => {
  it("prices each new worker at its zone's current price and sums them", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", { ...workers, SynktiModel: "tiny" });
    const asked: string[][] = [];
    const deps = { ec2, clock: instantClock(), log: silentLogger, prices: prices({ "us-east-1b": 0.4, "us-east-1c": 0.5 }, asked) };
    const { proposal } = await prepareLaunch(deps, { target: target(ec2), workers: 3 });
    expect(asked).toEqual([["us-east-1b", "us-east-1c"]]);
    expect(proposal).toEqual({
      project: "proj",
      model: "tiny",
      instanceType: "g5.xlarge",
      market: "spot",
      desired: 3,
      active: 1,
      toLaunch: 2,
      zones: { "us-east-1b": 1, "us-east-1c": 1 },
      slots: [1, 2],
      scaleDown: null,
      spotPrice: { "us-east-1b": 0.4, "us-east-1c": 0.5 },
      hourlyEstimate: 0.9,
      currency: "USD",
    });
    expect(renderProposal(proposal)).toBe(
      [
        "Plan for proj: launch 2 x g5.xlarge (spot, one-time) serving tiny: 1 in us-east-1b, 1 in us-east-1c (slots 1, 2)",
        "  1 of 3 workers already pending or running",
        "  current spot price: $0.4/h in us-east-1b, $0.5/h in us-east-1c; about $0.9/h for the 2 new workers (spot prices move; AWS bills the price of each hour)",
      ].join("\n"),
    );
    expect(proposalQuestion(proposal)).toBe("Launch 2 x g5.xlarge (about $0.9/h)? [y/N] ");
  });

  it("a price AWS does not give (or a failed read) is unknown, never guessed; the launch goes on", async () => {
    const ec2 = new FakeEc2();
    const partial = await prepareLaunch({ ec2, clock: instantClock(), log: silentLogger, prices: prices({ "us-east-1a": 0.4 }) }, { target: target(ec2), workers: 2 });
    expect(partial.proposal).toMatchObject({ spotPrice: { "us-east-1a": 0.4 }, hourlyEstimate: null });
    expect(renderProposal(partial.proposal)).toContain("$0.4/h in us-east-1a, unknown in us-east-1b; hourly estimate unknown");
    const broken: SpotPrices = { current: async () => Promise.reject(Object.assign(new Error("denied"), { name: "UnauthorizedOperation" })) };
    const result = await launchWorkers({ ec2, clock: instantClock(), log: silentLogger, prices: broken }, { target: target(ec2), workers: 1 });
    expect(result.plan).toMatchObject({ toLaunch: 1, spotPrice: {}, hourlyEstimate: null });
    expect(result.launched).toHaveLength(1);
  });

  it("nothing to launch: no price read, the plan says 0", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", { ...workers, SynktiModel: "tiny" });
    const asked: string[][] = [];
    const { proposal } = await prepareLaunch({ ec2, clock: instantClock(), log: silentLogger, prices: prices({}, asked) }, { target: target(ec2), workers: 1 });
    expect(proposal).toMatchObject({ toLaunch: 0, zones: {}, hourlyEstimate: null });
    expect(asked).toEqual([]);
  });

  it("buildProposal is pure: the same plan and prices give the same proposal", () => {
    const plan = planLaunch({ desired: 2, workers: [], zones: ["us-east-1a", "us-east-1b"] });
    const a = buildProposal(plan, { project: "p", model: "m", instanceType: "g5.xlarge" }, { "us-east-1a": 1.006, "us-east-1b": 1.006 });
    expect(a.hourlyEstimate).toBe(2.012);
    expect(buildProposal(plan, { project: "p", model: "m", instanceType: "g5.xlarge" }, { "us-east-1a": 1.006, "us-east-1b": 1.006 })).toEqual(a);
  });
});

describe("one project, one model", () => {
  it("refuses a launch for another model than the running workers', with the down command; launches nothing", async () => {
    const ec2 = new FakeEc2();
    const other = ec2.add("us-east-1a", { ...workers, SynktiModel: "llama" });
    const error = await failure(launchWorkers({ ec2, clock: instantClock(), log: silentLogger }, { target: target(ec2, "tiny"), workers: 2 }));
    expect(error.kind).toBe("unsafe");
    expect(error.code).toBe("other-model");
    expect(error.message).toContain(`serves llama (${other}); this launch is for tiny`);
    expect(error.remedy).toBe("synkti down --project-name proj --region us-east-1");
    expect(ec2.calls.run).toBeUndefined();
  });

  it("workers of the same model, stopping ones and untagged (older) ones do not block", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", { ...workers, SynktiModel: "tiny" });
    ec2.add("us-east-1b", { ...workers, SynktiModel: "llama", SynktiStopping: "true" });
    ec2.add("us-east-1c", { ...workers });
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (...args: unknown[]) => void warnings.push(String(args.at(-1))) } as typeof silentLogger;
    const result = await launchWorkers({ ec2, clock: instantClock(), log }, { target: target(ec2, "tiny"), workers: 3 });
    expect(result.launched).toHaveLength(1);
    expect(warnings.join("\n")).toMatch(/no SynktiModel tag \(launched by an older synkti\); counted as serving tiny/);
  });
});

describe("--wait: until every worker says serving", () => {
  const setup = () => {
    const ec2 = new FakeEc2();
    const clock = instantClock();
    return { ec2, clock, deps: { ec2, clock, log: silentLogger } };
  };
  /** Runs `at` once the clock has passed each time (ms since the first poll). */
  const schedule = (clock: ReturnType<typeof instantClock>, ec2: FakeEc2, events: Array<[number, () => void]>) => {
    const start = clock.now();
    const sleep = clock.sleep;
    clock.sleep = async (ms, signal) => {
      await sleep(ms, signal);
      for (const [at, run] of events.splice(0)) (clock.now() - start >= at ? run : () => events.push([at, run]))();
    };
    return ec2;
  };

  it("returns once all are serving, reporting progress along the way (booting counts, elapsed time)", async () => {
    const { ec2, clock, deps } = setup();
    const a = ec2.add("us-east-1a", { ...workers, SynktiState: "booting" });
    const b = ec2.add("us-east-1b", { ...workers, SynktiState: "booting" });
    schedule(clock, ec2, [
      [20_000, () => void ec2.tag([a], { SynktiState: "serving" })],
      [80_000, () => void ec2.tag([b], { SynktiState: "serving" })],
    ]);
    const lines: string[] = [];
    const result = await waitUntilServing(deps, { project: "proj", region: "us-east-1", deadlineMs: 30 * 60_000, onProgress: (p) => lines.push(describeProgress(p)) });
    expect(result.serving.sort()).toEqual([a, b].sort());
    expect(result.waitedMs).toBe(80_000);
    expect(lines[0]).toBe("0/2 serving, 2 booting (0s)");
    expect(lines).toContain("1/2 serving, 1 booting (20s)");
    expect(lines.at(-1)).toBe("2/2 serving (1m20s)");
    expect(clock.slept.every((ms) => ms === 5000)).toBe(true); // DescribeInstances every 5 s
  });

  it("a scale down: waits until the surplus has left (it says retiring, and is not waited for as serving)", async () => {
    const { ec2, clock, deps } = setup();
    ec2.add("us-east-1a", { ...workers, SynktiState: "serving", SynktiSlot: "0" });
    ec2.add("us-east-1b", { ...workers, SynktiState: "serving", SynktiSlot: "1" });
    const surplus = ec2.add("us-east-1c", { ...workers, SynktiState: "serving", SynktiSlot: "2" });
    schedule(clock, ec2, [
      [5_000, () => void ec2.tag([surplus], { SynktiState: "retiring" })],
      [40_000, () => void ec2.terminate([surplus])], // it drained, then terminated itself
    ]);
    const lines: string[] = [];
    const result = await waitUntilServing(deps, { project: "proj", region: "us-east-1", deadlineMs: 30 * 60_000, desired: 2, leavingIds: [surplus], onProgress: (p) => lines.push(describeProgress(p)) });
    expect(result.serving).toHaveLength(2);
    expect(result.waitedMs).toBeGreaterThanOrEqual(40_000);
    expect(lines[0]).toBe("2/2 serving, 1 surplus still draining (scale down) (0s)");
    expect(lines.at(-1)).toMatch(/^2\/2 serving \(\d+s\)$/);
  });

  it("a state tag outside the contract shows as unknown in the progress line, never raw on the terminal", async () => {
    const { ec2, clock, deps } = setup();
    const odd = ec2.add("us-east-1a", { ...workers, SynktiState: "booting" });
    schedule(clock, ec2, [
      [5_000, () => void ec2.tag([odd], { SynktiState: "\u001b[2Jpwned" })],
      [10_000, () => void ec2.tag([odd], { SynktiState: "serving" })],
    ]);
    const lines: string[] = [];
    await waitUntilServing(deps, { project: "proj", region: "us-east-1", deadlineMs: 60_000, onProgress: (p) => lines.push(describeProgress(p)) });
    expect(lines).toContain("0/1 serving, 1 unknown (5s)");
    expect(lines.join("\n")).not.toContain("\u001b");
  });

  it("a worker that says failed ends the wait at once with its id and the logs command", async () => {
    const { ec2, clock, deps } = setup();
    ec2.add("us-east-1a", { ...workers, SynktiState: "booting" });
    const bad = ec2.add("us-east-1b", { ...workers, SynktiState: "booting" });
    schedule(clock, ec2, [[10_000, () => void ec2.tag([bad], { SynktiState: "failed" })]]);
    const error = await failure(waitUntilServing(deps, { project: "proj", region: "us-east-1", deadlineMs: 30 * 60_000 }));
    expect(error).toMatchObject({ code: "worker-failed", kind: "unsafe", remedy: `synkti logs --project-name proj --region us-east-1 ${bad}` });
    expect(error.message).toContain(`${bad} failed while booting`);
    expect(clock.now() - Date.parse("2026-01-01T00:00:00Z")).toBeLessThan(20_000); // not the 30 min timeout
  });

  it.each(["draining", "retiring"])("a worker that says %s will never serve: the wait ends at once with its id and the logs command", async (state) => {
    const { ec2, clock, deps } = setup();
    ec2.add("us-east-1a", { ...workers, SynktiState: "booting" });
    const doomed = ec2.add("us-east-1b", { ...workers, SynktiState: "booting" });
    schedule(clock, ec2, [[10_000, () => void ec2.tag([doomed], { SynktiState: state })]]);
    const error = await failure(waitUntilServing(deps, { project: "proj", region: "us-east-1", deadlineMs: 30 * 60_000 }));
    expect(error).toMatchObject({ code: "worker-failed", kind: "unsafe", remedy: `synkti logs --project-name proj --region us-east-1 ${doomed}` });
    expect(error.message).toContain(`${doomed} is ${state}`);
    expect(error.message).toContain(`SynktiState=${state}`);
    expect(clock.now() - Date.parse("2026-01-01T00:00:00Z")).toBeLessThan(20_000); // not the 30 min timeout
  });

  it("a worker terminated while booting ends the wait at once", async () => {
    const { ec2, clock, deps } = setup();
    const gone = ec2.add("us-east-1a", { ...workers, SynktiState: "booting" });
    schedule(clock, ec2, [[5_000, () => void ec2.terminate([gone])]]);
    const error = await failure(waitUntilServing(deps, { project: "proj", region: "us-east-1", deadlineMs: 30 * 60_000 }));
    expect(error.code).toBe("worker-failed");
    expect(error.message).toMatch(new RegExp(`${gone} ended \\((shutting-down|terminated)\\) before it was serving`));
  });

  it("times out after --wait-timeout: exit-1 error, instances kept, the fixes printed", async () => {
    const { ec2, deps } = setup();
    const slow = ec2.add("us-east-1a", { ...workers, SynktiState: "booting" });
    const error = await failure(waitUntilServing(deps, { project: "proj", region: "us-east-1", deadlineMs: 90_000 }));
    expect(error).toMatchObject({ code: "wait-timeout", kind: "unsafe", remedy: "synkti status --project-name proj --region us-east-1" });
    expect(error.message).toContain("Gave up waiting after 1m30s: 0/1 serving, 1 booting (1m30s). The instances are kept");
    expect(error.message).toContain("synkti logs --project-name proj --region us-east-1 <instance-id>");
    expect(error.message).toContain("synkti down --project-name proj --region us-east-1");
    expect(ec2.instances.get(slow)?.state).toBe("running");
    expect(ec2.calls.terminate).toBeUndefined();
  });

  it("waits for an instance of this launch that the first listing misses; ignores untagged older workers", async () => {
    const { ec2, clock, deps } = setup();
    ec2.add("us-east-1a", { ...workers }); // an older synkti's worker: never publishes SynktiState
    const lines: string[] = [];
    const late = "i-late";
    schedule(clock, ec2, [
      [5_000, () => void ec2.instances.set(late, { instanceId: late, state: "running", availabilityZone: "us-east-1b", instanceType: "g5.xlarge", launchTime: undefined, privateIp: undefined, market: "spot", tags: { ...workers, SynktiState: "booting" } })],
      [15_000, () => void ec2.tag([late], { SynktiState: "serving" })],
    ]);
    const result = await waitUntilServing(deps, { project: "proj", region: "us-east-1", include: [late], deadlineMs: 60_000, onProgress: (p) => lines.push(describeProgress(p)) });
    expect(result.serving).toEqual([late]);
    expect(lines[0]).toBe("0/1 serving, 1 booting, 1 without SynktiState (older synkti, not waited for) (0s)");
  });
});

describe("--wait-timeout durations", () => {
  it.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
  ])("%s is %i ms", (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(["", "90", "10 minutes", "0s", "-5m", "25h", "1.5h"])("'%s' is refused with the rule", (text) => {
    expect(() => parseDuration(text)).toThrow(/duration with units, such as 90s, 10m, 1h/);
  });
});
