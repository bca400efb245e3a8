import { describe, expect, it } from "vitest";
import { projectNames } from "../../../src/infra/names.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeLoadBalancer, TG_ARN } from "./fake-load-balancer.js";

describe("FakeLoadBalancer (drains like AWS, unlike moto)", () => {
  it("a deregistered target drains while busy, leaves once idle or once the delay passed", async () => {
    const clock = new FakeClock();
    const lb = new FakeLoadBalancer(clock);
    lb.register("i-a");
    lb.register("i-b");
    lb.busy.add("i-a").add("i-b");
    await lb.deregister(TG_ARN, [{ id: "i-a" }, { id: "i-b" }, { id: "i-never-registered" }]);
    expect((await lb.targetHealth(TG_ARN)).map((t) => [t.id, t.state])).toEqual([["i-a", "draining"], ["i-b", "draining"]]);
    lb.busy.delete("i-a");
    expect((await lb.targetHealth(TG_ARN)).map((t) => t.id)).toEqual(["i-b"]);
    await clock.advance(90_000);
    expect(await lb.targetHealth(TG_ARN)).toEqual([]);
    expect(lb.log).toEqual(["deregister:i-a,i-b,i-never-registered", "targetHealth", "targetHealth", "targetHealth"]);
  });

  it("an unknown id fails the whole call (InvalidTarget); injected failures and a missing group throw", async () => {
    const lb = new FakeLoadBalancer(new FakeClock());
    lb.register("i-a");
    lb.unknownIds.add("i-gone");
    await expect(lb.deregister(TG_ARN, [{ id: "i-a" }, { id: "i-gone" }])).rejects.toMatchObject({ name: "InvalidTarget" });
    expect((await lb.targetHealth(TG_ARN))[0]?.state).toBe("healthy");
    lb.failWith.targetHealth = new Error("boom");
    await expect(lb.targetHealth(TG_ARN)).rejects.toThrow("boom");
    lb.group = undefined;
    expect(await lb.targetGroup(projectNames("demo"))).toBeUndefined();
    await expect(lb.deregister(TG_ARN, [{ id: "i-a" }])).rejects.toMatchObject({ name: "TargetGroupNotFound" });
  });
});
