import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { downProject } from "../../../src/deployer/fleet/down.js";
import { findLeaks } from "../../../src/deployer/fleet/leaks.js";
import { fleetStatus } from "../../../src/deployer/fleet/status.js";
import { duration } from "../../../src/cli/commands/status.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";
import { FakeLoadBalancer } from "./fake-load-balancer.js";
import { FakeConditional } from "./fake-conditional.js";

/** down's collaborators: no target registered, so nothing to drain (drain-targets.test.ts drains). */
const downDeps = (ec2: FakeEc2) => {
  const clock = instantClock();
  return { ec2, clock, log: silentLogger, lb: new FakeLoadBalancer(clock), conditional: new FakeConditional("proj-models") };
};

const project = (p = "proj") => ({ SynktiCluster: p, SynktiRole: "worker", SynktiLaunch: "l-1" });

describe("status", () => {
  it("lists the project's live workers with zone, uptime, launch tag, and the health each one reports", async () => {
    const ec2 = new FakeEc2();
    const clock = instantClock(Date.parse("1970-01-01T00:02:05Z"));
    const id = ec2.add("us-east-1b", { ...project(), SynktiEndpoint: "10.0.0.1:8080" });
    ec2.add("us-east-1a", project("other"));
    ec2.add("us-east-1a", project(), "terminated");
    const asked: string[] = [];
    const askHealth = async (instanceId: string, endpoint: string) => (asked.push(`${instanceId}@${endpoint}`), { health: "healthy" as const, detail: null });
    const result = await fleetStatus({ ec2, clock, log: silentLogger, askHealth }, "proj");
    expect(asked).toEqual([`${id}@10.0.0.1:8080`]);
    expect(result).toEqual({
      project: "proj",
      workers: [
        {
          instanceId: id,
          state: "running",
          availabilityZone: "us-east-1b",
          instanceType: "g5.xlarge",
          launchTime: "1970-01-01T00:00:00.000Z",
          uptimeSeconds: 125,
          privateIp: "10.0.0.1",
          market: "spot",
          health: "healthy",
          healthDetail: null,
          launchId: "l-1",
          stopping: false,
          endpoint: "10.0.0.1:8080",
          workerState: null,
          notice: null,
          model: null,
          slot: null,
          replaces: null,
          plan: null,
        },
      ],
    });
  });

  it("asks only running workers that published an endpoint; an unanswered ask is 'unreachable'", async () => {
    const ec2 = new FakeEc2();
    const booting = ec2.add("us-east-1a", project());
    const pending = ec2.add("us-east-1a", { ...project(), SynktiEndpoint: "127.0.0.2:8080" }, "pending");
    const silent = ec2.add("us-east-1b", { ...project(), SynktiEndpoint: "127.0.0.3:8080" });
    const askHealth = async () => ({ health: "unreachable" as const, detail: "connect ECONNREFUSED" });
    const { workers } = await fleetStatus({ ec2, clock: instantClock(), log: silentLogger, askHealth }, "proj");
    const byId = Object.fromEntries(workers.map((w) => [w.instanceId, [w.health, w.healthDetail]]));
    expect(byId).toEqual({
      [booting]: ["unknown", "no SynktiEndpoint tag yet (booting)"],
      [pending]: ["unknown", "instance is pending"],
      [silent]: ["unreachable", "connect ECONNREFUSED"],
    });
  });

  it("renders uptime compactly", () => {
    expect([5, 125, 3725, 90_000].map(duration)).toEqual(["5s", "2m05s", "1h02m", "1d01h"]);
  });
});

describe("down", () => {
  it("marks every instance of the project as stopping before terminating it, then waits until terminated", async () => {
    const ec2 = new FakeEc2();
    const ids = [ec2.add("us-east-1a", project()), ec2.add("us-east-1b", { SynktiCluster: "proj", SynktiRole: "something-else" })];
    const bystander = ec2.add("us-east-1a", project("other"));
    const order: string[] = [];
    const tag = ec2.tag.bind(ec2);
    const terminate = ec2.terminate.bind(ec2);
    ec2.tag = async (i, t) => (order.push(`tag:${i.join(",")}`), tag(i, t));
    ec2.terminate = async (i) => (order.push(`terminate:${i.join(",")}`), terminate(i));
    const result = await downProject(downDeps(ec2), { project: "proj" });
    expect(order).toEqual([`tag:${ids.join(",")}`, `terminate:${ids.join(",")}`]);
    expect(result).toMatchObject({ terminated: [...ids].sort(), remaining: [], error: null, fix: null });
    for (const id of ids) expect(ec2.instances.get(id)).toMatchObject({ state: "terminated", tags: { SynktiStopping: "true" } });
    expect(ec2.instances.get(bystander)?.state).toBe("running");
  });

  it("also ends an instance that appears while it runs (a replacement a worker launched)", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", project());
    let late: string | undefined;
    const terminate = ec2.terminate.bind(ec2);
    ec2.terminate = async (i) => {
      late ??= ec2.add("us-east-1c", project());
      return terminate(i);
    };
    const result = await downProject(downDeps(ec2), { project: "proj" });
    expect(result.terminated).toContain(late);
    expect(ec2.live({ SynktiCluster: "proj" })).toHaveLength(0);
  });

  it("reports what would not go by the deadline, with the command to finish (fake clock)", async () => {
    const ec2 = new FakeEc2();
    const stuck = ec2.add("us-east-1a", project());
    ec2.stuck.add(stuck);
    const clock = new FakeClock();
    const pending = downProject({ ...downDeps(ec2), clock }, { project: "proj", region: "us-east-1", deadlineMs: 30_000 });
    await clock.advance(31_000);
    const result = await pending;
    expect(result).toMatchObject({ remaining: [{ instanceId: stuck, state: "shutting-down" }], fix: "synkti down --project-name proj --region us-east-1" });
    expect(result.error).toMatch(/deadline/);
  });

  it("sets desired to 0 before it tags or terminates anything, over whatever another deployer wrote meanwhile", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", project());
    const deps = downDeps(ec2);
    deps.conditional.set("cluster/desired.json", '{"workers":3,"setAt":"2026-01-01T00:00:00.000Z"}');
    let raced = false;
    deps.conditional.beforeWrite = () => {
      if (!raced) deps.conditional.set("cluster/desired.json", '{"workers":5,"setAt":"2026-01-01T00:00:00.500Z"}');
      raced = true;
    };
    let changesAtWrite: number | undefined;
    const put = deps.conditional.putIfMatch.bind(deps.conditional);
    deps.conditional.putIfMatch = async (...args) => ((changesAtWrite ??= (ec2.calls.tag ?? 0) + (ec2.calls.terminate ?? 0)), put(...args));
    const result = await downProject(deps, { project: "proj" });
    expect(changesAtWrite).toBe(0);
    expect(JSON.parse(deps.conditional.text("cluster/desired.json")!)).toEqual({ workers: 0, setAt: expect.any(String) });
    expect(result).toMatchObject({ desired: { workers: 0 }, desiredProblem: null, remaining: [] });
  });

  it.each([
    ["refused (AccessDenied)", { name: "UnauthorizedOperation", $metadata: { httpStatusCode: 403 } }],
    ["throttled", { name: "RequestLimitExceeded", $metadata: { httpStatusCode: 503 } }],
  ])("a CreateTags %s never stops the termination: every instance ends", async (_, failure) => {
    const ec2 = new FakeEc2();
    const ids = [ec2.add("us-east-1a", project()), ec2.add("us-east-1b", project())];
    ec2.tag = async () => {
      throw Object.assign(new Error("CreateTags failed"), failure);
    };
    const result = await downProject(downDeps(ec2), { project: "proj" });
    expect(result).toMatchObject({ remaining: [], error: null, desired: { workers: 0 } });
    expect(result.terminated).toEqual([...ids].sort());
    expect(ec2.live({ SynktiCluster: "proj" })).toHaveLength(0);
  });

  it("without its bucket, down still terminates and says the desired size could not be set", async () => {
    const ec2 = new FakeEc2();
    ec2.add("us-east-1a", project());
    const deps = downDeps(ec2);
    deps.conditional.missingBucket = true;
    const result = await downProject(deps, { project: "proj" });
    expect(result).toMatchObject({ desired: null, desiredProblem: "no bucket proj-models, so no desired size to set", remaining: [] });
    expect(ec2.live({ SynktiCluster: "proj" })).toHaveLength(0);
  });

  it("dry-run lists and changes nothing; an empty project is a no-op", async () => {
    const ec2 = new FakeEc2();
    const id = ec2.add("us-east-1a", project());
    const deps = downDeps(ec2);
    expect((await downProject(deps, { project: "proj", dryRun: true })).found).toEqual([{ instanceId: id, state: "running", availabilityZone: "us-east-1a" }]);
    expect(ec2.calls.terminate).toBeUndefined();
    expect(deps.conditional.writes).toEqual([]); // a dry run writes no desired size either
    expect(await downProject(deps, { project: "empty" })).toMatchObject({ found: [], terminated: [], remaining: [] });
  });
});

describe("leaks", () => {
  it("finds stopped instances, marked-but-alive ones, unattached volumes and open spot requests; each with its fix", async () => {
    const ec2 = new FakeEc2();
    const stopped = ec2.add("us-east-1a", project(), "stopped");
    const marked = ec2.add("us-east-1a", { ...project(), SynktiStopping: "true" });
    ec2.add("us-east-1a", project()); // a healthy running worker is no leak
    ec2.add("us-east-1a", { ...project(), SynktiStopping: "true" }, "shutting-down"); // on its way out
    ec2.volumeList = [
      { volumeId: "vol-1", state: "available", availabilityZone: "us-east-1a", tags: { SynktiCluster: "proj" } },
      { volumeId: "vol-2", state: "in-use", availabilityZone: "us-east-1a", tags: { SynktiCluster: "proj" } },
    ];
    ec2.spotRequestList = [{ requestId: "sir-1", state: "open", instanceId: undefined, tags: { SynktiCluster: "proj" } }];
    const { leaks } = await findLeaks({ ec2, clock: instantClock(), log: silentLogger }, "proj", "us-east-1");
    expect(leaks.map((l) => [l.kind, l.id])).toEqual([
      ["instance", stopped],
      ["instance", marked],
      ["volume", "vol-1"],
      ["spot-request", "sir-1"],
    ]);
    expect(leaks[0]!.fix).toBe("synkti down --project-name proj --region us-east-1");
    expect(leaks[2]!.fix).toBe("aws ec2 delete-volume --volume-id vol-1 --region us-east-1");
    expect(leaks[3]!.fix).toBe("aws ec2 cancel-spot-instance-requests --spot-instance-request-ids sir-1 --region us-east-1");
  });
});
