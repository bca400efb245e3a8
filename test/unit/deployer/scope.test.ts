import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { LaunchScope } from "../../../src/deployer/launch/scope.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeEc2, instantClock } from "./fake-ec2.js";

const tags = (launch: string, project = "proj") => ({ SynktiCluster: project, SynktiRole: "worker", SynktiLaunch: launch });

describe("LaunchScope: RAII for one launch", () => {
  it("disposed without commit, terminates exactly its own instances and waits until they are terminated", async () => {
    const ec2 = new FakeEc2();
    const other = ec2.add("us-east-1a", tags("l-other"));
    const foreign = ec2.add("us-east-1a", tags("l-mine", "another-project"));
    const mine = [ec2.add("us-east-1b", tags("l-mine")), ec2.add("us-east-1c", tags("l-mine"))];
    const deps = { ec2, clock: instantClock(), log: silentLogger };
    let scope: LaunchScope;
    {
      await using owned = new LaunchScope(deps, "proj", "l-mine");
      scope = owned;
      mine.forEach((id) => owned.created(id));
    }
    expect(scope.cleanup).toMatchObject({ complete: true, terminated: [...mine].sort(), remaining: [] });
    for (const id of mine) expect(ec2.instances.get(id)?.state).toBe("terminated");
    expect(ec2.instances.get(other)?.state).toBe("running");
    expect(ec2.instances.get(foreign)?.state).toBe("running");
  });

  it("finds an instance whose RunInstances answer was lost, by the launch tag", async () => {
    const ec2 = new FakeEc2();
    const lost = ec2.add("us-east-1a", tags("l-mine"), "pending");
    const deps = { ec2, clock: instantClock(), log: silentLogger };
    const scope = new LaunchScope(deps, "proj", "l-mine");
    scope.answerLost();
    await scope[Symbol.asyncDispose]();
    expect(ec2.instances.get(lost)?.state).toBe("terminated");
    expect(scope.cleanup?.terminated).toEqual([lost]);
  });

  it("after a lost answer keeps looking for the grace period, and ends what shows up late", async () => {
    const ec2 = new FakeEc2();
    const clock = instantClock();
    const scope = new LaunchScope({ ec2, clock, log: silentLogger }, "proj", "l-late", { graceMs: 10_000, intervalMs: 1000 });
    scope.answerLost();
    // AWS's eventual consistency: the instance becomes visible only after a few seconds.
    const originalDescribe = ec2.describe.bind(ec2);
    let late: string | undefined;
    ec2.describe = async (q) => {
      if (!late && clock.now() - Date.parse("2026-01-01T00:00:00Z") >= 3000) late = ec2.add("us-east-1a", tags("l-late"));
      return originalDescribe(q);
    };
    await scope[Symbol.asyncDispose]();
    expect(late).toBeDefined();
    expect(ec2.instances.get(late!)?.state).toBe("terminated");
    expect(clock.now() - Date.parse("2026-01-01T00:00:00Z")).toBeGreaterThanOrEqual(10_000);
  });

  it("committed, disposal does nothing", async () => {
    const ec2 = new FakeEc2();
    const id = ec2.add("us-east-1a", tags("l-ok"));
    {
      await using owned = new LaunchScope({ ec2, clock: instantClock(), log: silentLogger }, "proj", "l-ok");
      owned.created(id);
      owned.commit();
    }
    expect(ec2.instances.get(id)?.state).toBe("running");
    expect(ec2.calls.terminate).toBeUndefined();
  });

  it("reports what AWS would not terminate by the deadline instead of throwing (fake clock)", async () => {
    const ec2 = new FakeEc2();
    const id = ec2.add("us-east-1a", tags("l-stuck"));
    ec2.stuck.add(id);
    const clock = new FakeClock();
    const scope = new LaunchScope({ ec2, clock, log: silentLogger }, "proj", "l-stuck", { cleanupDeadlineMs: 60_000, intervalMs: 5000 });
    scope.created(id);
    const disposed = scope[Symbol.asyncDispose]();
    await clock.advance(61_000);
    await disposed;
    expect(scope.cleanup).toMatchObject({ complete: false, remaining: [{ instanceId: id, state: "shutting-down" }] });
  });

  it("never throws from disposal, even when AWS refuses: the original error stays visible", async () => {
    const ec2 = new FakeEc2();
    ec2.describe = async () => {
      throw Object.assign(new Error("denied"), { name: "UnauthorizedOperation" });
    };
    const scope = new LaunchScope({ ec2, clock: instantClock(), log: silentLogger }, "proj", "l-x");
    scope.created("i-known");
    const failure = new Error("the launch failed");
    const run = async () => {
      await using _owned = scope;
      throw failure;
    };
    await expect(run()).rejects.toBe(failure);
    expect(scope.cleanup).toMatchObject({ complete: false, remaining: [{ instanceId: "i-known", state: "unknown" }], lastError: "denied" });
  });
});
