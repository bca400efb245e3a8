/**
 * `synkti down` takes the targets out of the load balancer and waits for their in-flight requests
 * BEFORE TerminateInstances (issue 10 item 2), bounded by the target group's deregistration delay;
 * nothing about the load balancer may stop the termination. FakeLoadBalancer drains like AWS (moto
 * deregisters at once, so only here can the wait be seen); the fake clock moves time.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { downProject } from "../../../src/deployer/fleet/down.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeEc2 } from "./fake-ec2.js";
import { accessDenied, FakeLoadBalancer } from "./fake-load-balancer.js";
import { FakeConditional } from "./fake-conditional.js";

const project = { SynktiCluster: "proj", SynktiRole: "worker", SynktiLaunch: "l-1" };

function setup() {
  const order: string[] = [];
  const clock = new FakeClock();
  const ec2 = new FakeEc2();
  const lb = new FakeLoadBalancer(clock, order);
  const terminate = ec2.terminate.bind(ec2);
  const tag = ec2.tag.bind(ec2);
  ec2.terminate = async (ids) => (order.push(`terminate:${ids.join(",")}`), terminate(ids));
  ec2.tag = async (ids, tags) => (order.push(`tag:${ids.join(",")}`), tag(ids, tags));
  return { order, clock, ec2, lb, deps: { ec2, lb, clock, log: silentLogger, conditional: new FakeConditional("proj-models") } };
}

/** Runs down, moving fake time in steps, and says whether TerminateInstances ran by each step. */
async function runDown(s: ReturnType<typeof setup>, steps: number[], options: { dryRun?: boolean } = {}) {
  const done = downProject(s.deps, { project: "proj", intervalMs: 1000, ...options });
  const terminatedBy: boolean[] = [];
  for (const ms of steps) {
    await s.clock.advance(ms);
    terminatedBy.push(s.order.some((o) => o.startsWith("terminate")));
  }
  return { result: await done, terminatedBy };
}

describe("down: deregister, wait for in-flight requests, then terminate", () => {
  it("marks, deregisters every target, waits while one still serves a request, and terminates only after", async () => {
    const s = setup();
    const a = s.ec2.add("us-east-1a", project);
    const b = s.ec2.add("us-east-1b", project);
    s.lb.register(a);
    s.lb.register(b);
    s.lb.register("i-00000000000stale"); // registered, not a live instance: deregistered too
    s.lb.busy.add(a); // a request in flight on a

    const done = downProject(s.deps, { project: "proj", intervalMs: 1000 });
    await s.clock.advance(30_000);
    expect(s.order.filter((o) => o.startsWith("terminate"))).toEqual([]); // still draining a
    expect(s.order.slice(0, 3)).toEqual([`tag:${a},${b}`, "targetHealth", `deregister:i-00000000000stale,${a},${b}`]);
    s.lb.busy.delete(a); // its request finished: AWS ends the draining
    await s.clock.advance(60_000);
    const result = await done;

    const terminateAt = s.order.findIndex((o) => o.startsWith("terminate"));
    const lastHealth = s.order.lastIndexOf("targetHealth");
    expect(lastHealth).toBeLessThan(terminateAt);
    expect(s.order[terminateAt]).toBe(`terminate:${a},${b}`);
    expect(result.deregistration).toMatchObject({ targetGroup: "demo-synkti-vllm", targets: ["i-00000000000stale", a, b], drained: true, stillDraining: [], warning: null, delaySeconds: 90 });
    expect(result.deregistration!.waitedMs).toBeGreaterThanOrEqual(30_000);
    expect(result.deregistration!.waitedMs).toBeLessThan(40_000);
    expect(result).toMatchObject({ terminated: [a, b], remaining: [], error: null });
  });

  it("waits at most the deregistration delay plus a margin, then terminates with a warning naming what still drained", async () => {
    const s = setup();
    const a = s.ec2.add("us-east-1a", project);
    s.lb.register(a);
    s.lb.busy.add(a); // never finishes
    s.lb.group!.deregistrationDelaySeconds = 20;
    s.lb.targetHealth = wrapNeverDrained(s.lb, a); // AWS would end it after the delay; this one does not
    const { result, terminatedBy } = await runDown(s, [20_000, 14_000, 5_000, 60_000]);
    expect(terminatedBy).toEqual([false, false, true, true]); // 20 s delay + 15 s margin
    expect(result.deregistration).toMatchObject({ drained: false, stillDraining: [a] });
    expect(result.deregistration!.warning).toMatch(/^1 target\(s\) still draining after 3[5-9] s; terminating anyway: requests still in flight on them may be cut$/);
    expect(result.terminated).toEqual([a]);
  });

  it("a target group that is missing, unreadable or refuses the deregistration never stops the termination", async () => {
    for (const breakIt of [
      (lb: FakeLoadBalancer) => void (lb.group = undefined),
      (lb: FakeLoadBalancer) => void (lb.failWith.targetGroup = accessDenied("DescribeTargetGroups")),
      (lb: FakeLoadBalancer) => void (lb.failWith.deregister = accessDenied("DeregisterTargets")),
      (lb: FakeLoadBalancer) => void (lb.failWith.targetHealth = accessDenied("DescribeTargetHealth")),
    ]) {
      const s = setup();
      const a = s.ec2.add("us-east-1a", project);
      s.lb.register(a);
      breakIt(s.lb);
      const { result } = await runDown(s, [10_000]);
      expect(result.terminated).toEqual([a]);
      if (s.lb.group === undefined) expect(result.deregistration).toMatchObject({ targetGroup: null, warning: null });
      else expect(result.deregistration).toMatchObject({ drained: false, warning: expect.stringMatching(/User is not authorized to perform: elasticloadbalancing:\w+/) });
    }
  });

  it("an id AWS no longer knows fails the call: the registered targets are deregistered alone", async () => {
    const s = setup();
    const a = s.ec2.add("us-east-1a", project);
    const booting = s.ec2.add("us-east-1a", project); // not registered (yet)
    s.lb.register(a);
    s.lb.unknownIds.add(booting);
    const { result } = await runDown(s, [10_000]);
    expect(s.order.filter((o) => o.startsWith("deregister"))).toEqual([`deregister:${a},${booting}`, `deregister:${a}`]);
    expect(result.deregistration).toMatchObject({ drained: true, warning: null });
  });

  it("--dry-run says what it would deregister and changes nothing", async () => {
    const s = setup();
    const a = s.ec2.add("us-east-1a", project);
    s.lb.register(a);
    const { result } = await runDown(s, [0], { dryRun: true });
    expect(result.deregistration).toMatchObject({ targetGroup: "demo-synkti-vllm", targets: [a], delaySeconds: 90, drained: false });
    expect(s.order.filter((o) => o !== "targetHealth")).toEqual([]);
    expect(s.lb.targets.get(a)?.state).toBe("healthy");
  });
});

/** The target stays `draining` forever (as if AWS's delay were longer than the attribute says). */
function wrapNeverDrained(lb: FakeLoadBalancer, id: string) {
  const original = lb.targetHealth.bind(lb);
  return async (arn: string) => {
    const listed = await original(arn);
    return listed.some((t) => t.id === id) ? listed : [...listed, { id, port: 8000, state: "draining", reason: null, description: null }];
  };
}
