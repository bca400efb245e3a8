import { describe, expect, it } from "vitest";
import type { TargetGroupRef } from "../../../src/aws/elbv2-targets.js";
import { silentLogger } from "../../../src/core/log.js";
import { drainWorker } from "../../../src/worker/load-balancer/drain.js";
import { LoadBalancerMember } from "../../../src/worker/load-balancer/member.js";
import { TargetRegistration, type TargetGroupApi } from "../../../src/worker/load-balancer/target-registration.js";
import { checkModelServerAuth, type AuthCheck } from "../../../src/worker/load-balancer/auth-check.js";
import { freePort } from "../../support/free-port.js";
import { startVllmStandin } from "../../support/vllm-standin.js";
import { drainBudgetMs, workerOptionsFromEnv } from "../../../src/worker/options.js";
import { FakeClock } from "../../support/fake-clock.js";
import { ImdsEmulator } from "../../support/imds-emulator.js";
import { ImdsClient } from "../../../src/context/imds-client.js";
import { downHasBegun } from "../../../src/worker/load-balancer/stop-marker.js";

const GROUP: TargetGroupRef = { arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/demo-synkti/abc", name: "demo-synkti", port: 8000 };

/** The target group as AWS keeps it, with calls a test can fail (throttling) and count. */
function fakeTargetGroup() {
  const tg = {
    targets: new Set<string>(),
    calls: [] as string[],
    failNext: 0,
    lookups: 0,
    api: undefined as unknown as TargetGroupApi,
  };
  const maybeFail = () => {
    if (tg.failNext > 0) {
      tg.failNext -= 1;
      throw Object.assign(new Error("Rate exceeded"), { name: "Throttling" });
    }
  };
  tg.api = {
    lookup: async () => (tg.lookups++, GROUP),
    register: async (_g, id) => (tg.calls.push(`register ${id}`), maybeFail(), void tg.targets.add(id)),
    deregister: async (_g, id) => (tg.calls.push(`deregister ${id}`), maybeFail(), void tg.targets.delete(id)),
  };
  return tg;
}

function registration(clock: FakeClock, tg: ReturnType<typeof fakeTargetGroup>) {
  return new TargetRegistration({ api: tg.api, clock, log: silentLogger }, { targetGroup: GROUP.name, instanceId: "i-1", retryMs: 30_000 });
}

/** A registration whose first join was throttled (the call was made and failed). */
async function throttledJoin() {
  const clock = new FakeClock();
  const tg = fakeTargetGroup();
  const reg = registration(clock, tg);
  tg.failNext = 1;
  reg.join();
  await clock.advance(0);
  return { clock, tg, reg };
}

describe("target registration (the worker joins and leaves the target group itself)", () => {
  it("registers, retries a throttled call with the latest wish, looks the group up once", async () => {
    const { clock, tg, reg } = await throttledJoin();
    expect(tg.targets.size).toBe(0);
    expect(reg.registered).toBe(false);
    await clock.advance(30_000); // the tag writer's retry period
    expect([...tg.targets]).toEqual(["i-1"]);
    expect(reg.registered).toBe(true);
    // After a model server restart: registered again (AWS: a no-op, or back if someone deregistered it).
    tg.targets.clear();
    reg.join();
    await clock.advance(0);
    expect([...tg.targets]).toEqual(["i-1"]);
    expect(tg.lookups).toBe(1);
  });

  it("a leave set while a join is failing wins: the stale join is never sent again", async () => {
    const { clock, tg, reg } = await throttledJoin();
    reg.leave();
    expect(await Promise.all([reg.flush(60_000), clock.advance(30_000)]).then(([landed]) => landed)).toBe(true);
    expect(tg.calls).toEqual(["register i-1", "deregister i-1"]);
    expect(tg.targets.size).toBe(0);
  });
});

function member(clock: FakeClock, checks: AuthCheck[], healthy = () => true, downBegun: () => Promise<boolean> = async () => false) {
  const tg = fakeTargetGroup();
  const reg = registration(clock, tg);
  const refused: string[] = [];
  const m = new LoadBalancerMember(
    { registration: reg, checkAuth: async () => checks.shift() ?? { kind: "enforced" }, downBegun, modelServerHealthy: healthy, clock, log: silentLogger, onRefused: (r) => refused.push(r) },
    { retryMs: 2000, attempts: 3 },
  );
  return { m, tg, refused };
}

describe("load balancer member (healthz, auth check before joining)", () => {
  it("joins only after the auth check proved 401 without the key; /healthz 200 only while healthy and not draining", async () => {
    const clock = new FakeClock();
    const { m, tg } = member(clock, [{ kind: "inconclusive", reason: "refused" }, { kind: "enforced" }]);
    expect(m.serving(true)).toBe(true);
    expect(m.serving(false)).toBe(false);
    m.onModelServerHealthy();
    await clock.advance(0);
    expect(tg.targets.size).toBe(0); // inconclusive: asked again in 2 s
    await clock.advance(2000);
    expect([...tg.targets]).toEqual(["i-1"]);
    m.stopTraffic();
    expect(m.serving(true)).toBe(false);
    await clock.advance(0);
    expect(tg.targets.size).toBe(0);
    m.onModelServerHealthy(); // a late healthy probe while draining: never joins again
    await clock.advance(5000);
    expect(tg.targets.size).toBe(0);
  });

  it("never joins a model server that serves without the key: refused at once, /healthz 503", async () => {
    const clock = new FakeClock();
    const { m, tg, refused } = member(clock, [{ kind: "open", reason: "answers /v1/models without the API key (HTTP 200)" }]);
    m.onModelServerHealthy();
    await clock.advance(0);
    expect(refused).toEqual(["answers /v1/models without the API key (HTTP 200)"]);
    expect(tg.calls).toEqual([]);
    expect(m.serving(true)).toBe(false);
  });

  it("refuses after repeated inconclusive checks while healthy; a model server that went down meanwhile is checked afresh later", async () => {
    const clock = new FakeClock();
    const inconclusive: AuthCheck = { kind: "inconclusive", reason: "HTTP 500" };
    const { m, refused } = member(clock, [inconclusive, inconclusive, inconclusive]);
    m.onModelServerHealthy();
    await clock.advance(10_000);
    expect(refused).toEqual([expect.stringMatching(/after 3 tries: HTTP 500/)]);

    let up = true;
    const crashed = member(new FakeClock(), [inconclusive, inconclusive, inconclusive], () => up);
    up = false;
    crashed.m.onModelServerHealthy();
    await clock.advance(10_000);
    expect(crashed.refused).toEqual([]);
  });
});

describe("a worker synkti down has begun on (SynktiStopping=true) never joins", () => {
  it("healthy and authenticated, but tagged for stopping: no RegisterTargets, /healthz stays 503, later healthy starts too", async () => {
    const clock = new FakeClock();
    const { m, tg, refused } = member(clock, [], () => true, async () => true);
    m.onModelServerHealthy();
    await clock.advance(0);
    expect(tg.calls).toEqual([]);
    expect(m.serving(true)).toBe(false);
    expect(refused).toEqual([]); // not a refusal: down terminates the instance
    m.onModelServerHealthy(); // a restart's healthy start
    await clock.advance(5000);
    expect(tg.calls).toEqual([]);
  });

  it("a tag read that fails does not keep a healthy worker out (down deregisters every instance anyway)", async () => {
    const clock = new FakeClock();
    const { m, tg } = member(clock, [], () => true, async () => Promise.reject(new Error("IMDS answered HTTP 500")));
    m.onModelServerHealthy();
    await clock.advance(0);
    expect([...tg.targets]).toEqual(["i-1"]);
    expect(m.serving(true)).toBe(true);
  });

  it("reads the instance's own SynktiStopping tag from instance metadata; absent or disabled tags are 'no'", async () => {
    await using imds = await ImdsEmulator.start({ tags: { SynktiCluster: "demo" } });
    const client = new ImdsClient({ endpoint: imds.url });
    expect(await downHasBegun(client)).toBe(false);
    imds.tags = { SynktiCluster: "demo", SynktiStopping: "true" };
    expect(await downHasBegun(client)).toBe(true);
    imds.tags = null; // instance metadata tags disabled
    expect(await downHasBegun(client)).toBe(false);
  });
});

describe("drain (SIGTERM now, the failover's DRAIN next)", () => {
  function drainSetup(inFlight: Array<number | undefined>, deregisters = true) {
    const clock = new FakeClock();
    const events: string[] = [];
    const target = {
      stopTraffic: () => void events.push("stop traffic"),
      left: async () => (events.push("left"), deregisters),
    };
    const counts = [...inFlight];
    const read = async () => {
      const n = counts.length > 1 ? counts.shift() : counts[0];
      events.push(`in flight ${n} at ${clock.now() - start}`);
      return n;
    };
    const start = clock.now();
    return { clock, events, target, read, start };
  }

  it("waits until the requests in flight have ended, then returns (the model server may stop)", async () => {
    const { clock, events, target, read, start } = drainSetup([2, 1, 0]);
    const done = drainWorker({ clock, log: silentLogger, target, inFlight: read }, { deadlineAt: start + 55_000, pollMs: 1000 });
    await clock.advance(5000);
    expect(await done).toMatchObject({ outcome: "idle", deregistered: true, inFlight: 0, tookMs: 2000 });
    expect(events).toEqual(["stop traffic", "left", "in flight 2 at 0", "in flight 1 at 1000", "in flight 0 at 2000"]);
  });

  it("ends at the deadline with requests still running, or unknown (no /metrics)", async () => {
    const busy = drainSetup([3]);
    const done = drainWorker({ clock: busy.clock, log: silentLogger, target: busy.target, inFlight: busy.read }, { deadlineAt: busy.start + 10_000, pollMs: 1000 });
    await busy.clock.advance(60_000);
    expect(await done).toMatchObject({ outcome: "deadline", inFlight: 3, tookMs: 10_000 });

    const blind = drainSetup([undefined]);
    const unknown = drainWorker({ clock: blind.clock, log: silentLogger, target: blind.target, inFlight: blind.read }, { deadlineAt: blind.start + 4000, pollMs: 1000 });
    await blind.clock.advance(60_000);
    expect(await unknown).toMatchObject({ outcome: "deadline", inFlight: undefined, tookMs: 4000 });
  });

  it("without a landed deregistration, waits for the health checks to see 503 (2 x 5 s) before trusting an idle count", async () => {
    const { clock, events, target, read, start } = drainSetup([0], false);
    const done = drainWorker({ clock, log: silentLogger, target, inFlight: read }, { deadlineAt: start + 55_000, pollMs: 1000 });
    await clock.advance(9_999);
    expect(events).toEqual(["stop traffic", "left"]);
    await clock.advance(1);
    expect(await done).toMatchObject({ outcome: "idle", deregistered: false, tookMs: 10_000 });
  });

  it("a deregistration that keeps failing holds the drain no longer than the health checks need", async () => {
    const clock = new FakeClock();
    const start = clock.now();
    let asked = 0;
    const target = { stopTraffic: () => {}, left: (timeoutMs: number) => clock.sleep(timeoutMs).then(() => false) };
    const done = drainWorker({ clock, log: silentLogger, target, inFlight: async () => (asked++, 0) }, { deadlineAt: start + 55_000, pollMs: 1000 });
    await clock.advance(10_000);
    expect(await done).toMatchObject({ outcome: "idle", deregistered: false, tookMs: 10_000 });
    expect(asked).toBe(1);
  });

  it("stops waiting when its signal aborts", async () => {
    const { clock, target, read, start } = drainSetup([5]);
    const abort = new AbortController();
    const done = drainWorker({ clock, log: silentLogger, target, inFlight: read }, { deadlineAt: start + 55_000, pollMs: 1000 }, abort.signal);
    await clock.advance(3000);
    abort.abort();
    expect(await done).toMatchObject({ outcome: "aborted", inFlight: 5 });
  });

  it("a SIGTERM's drain lasts min(deregistration delay, the stop budget minus the model server's grace and the last flush)", () => {
    const options = workerOptionsFromEnv({ project: "demo" }, {});
    expect(drainBudgetMs(options)).toBe(90_000 - 30_000 - 5000);
    expect(drainBudgetMs({ ...options, drain: { ...options.drain, stopBudgetMs: 600_000 } })).toBe(90_000);
    expect(drainBudgetMs({ ...options, drain: { ...options.drain, stopBudgetMs: 10_000 } })).toBe(0);
  });
});

describe("auth check against the vLLM stand-in (401 without the key, 200 with it)", () => {
  const KEY = "the-project-key-0123456789";
  it.each([
    ["keyed with the project's key", [KEY], "enforced"],
    ["without any key (VLLM_API_KEY ignored)", [], "open"],
    ["with another key (an --api-key in the command)", ["someone-elses-key-99"], "wrong-key"],
  ] as const)("%s: %s", async (_, apiKeys, kind) => {
    await using standin = await startVllmStandin({ apiKeys: [...apiKeys] });
    await standin.ready;
    expect(await checkModelServerAuth(standin.url, KEY, { timeoutMs: 2000 })).toMatchObject({ kind });
  });

  it("nothing listening: inconclusive (asked again), never enforced", async () => {
    const check = await checkModelServerAuth(`http://127.0.0.1:${await freePort()}`, KEY, { timeoutMs: 2000 });
    expect(check).toMatchObject({ kind: "inconclusive", reason: expect.stringContaining("did not answer") });
  });
});
