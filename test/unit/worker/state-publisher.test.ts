import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { projectNames } from "../../../src/infra/names.js";
import type { InterruptionEvent } from "../../../src/worker/interruption/monitors.js";
import { LatestWriter } from "../../../src/worker/state/latest-writer.js";
import { WorkerReporter } from "../../../src/worker/state/reporter.js";
import { SelfTags } from "../../../src/worker/state/self-tags.js";
import { nextState, noticeValue, stateOfModelServer } from "../../../src/worker/state/worker-state.js";
import { FakeClock } from "../../support/fake-clock.js";

/**
 * EC2 CreateTags on the worker's own instance, played by a test: every call waits until the test
 * answers it (`land`/`refuse`), so a test can hold a write in flight while the state moves on. The
 * instance's tags are what landed, in the order calls landed.
 */
function fakeEc2() {
  const calls: Array<{ tags: Record<string, string>; land(): void; refuse(message?: string): void; signal?: AbortSignal }> = [];
  const instance: Record<string, string> = {};
  return {
    calls,
    instance,
    /** Answers every call at once from now on. */
    auto: false,
    tagSelf(_id: string, tags: Record<string, string>, signal?: AbortSignal) {
      return new Promise<void>((resolve, reject) => {
        const call = {
          tags: { ...tags },
          signal,
          land: () => {
            Object.assign(instance, tags);
            resolve();
          },
          refuse: (message = "RequestLimitExceeded") => reject(new Error(message)),
        };
        calls.push(call);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        if (this.auto) call.land();
      });
    },
  };
}

const settle = (clock: FakeClock) => clock.advance(0);

describe("latest writer (the retried, ordered write behind every published state)", () => {
  it("never lets an older value land after a newer one: a retry sends the latest, not the one that failed", async () => {
    const clock = new FakeClock();
    const written: string[] = [];
    let fail = true;
    const writer = new LatestWriter<string>({ clock, log: silentLogger }, async (value) => {
      if (fail) throw new Error("throttled");
      written.push(value);
    }, { what: "test", retryMs: 30_000 });
    writer.set("serving");
    await settle(clock); // the first write fails; a retry waits 30 s
    writer.set("draining");
    fail = false;
    await clock.advance(29_999);
    expect(written).toEqual([]);
    await clock.advance(1);
    expect(written).toEqual(["draining"]);
    await clock.advance(120_000);
    expect(written).toEqual(["draining"]); // "serving" was never sent again
    expect(writer.settled).toBe(true);
  });

  it("set() never waits for AWS and never throws, even when every write fails", async () => {
    const clock = new FakeClock();
    const writer = new LatestWriter<number>({ clock, log: silentLogger }, () => new Promise<void>(() => {}), { what: "test", retryMs: 1000 });
    for (let i = 0; i < 5; i++) writer.set(i); // a hung AWS call: nothing here blocks
    expect(writer.settled).toBe(false);
    const closed = writer.close(2000);
    await clock.advance(2000);
    expect(await closed).toBe(false); // bounded: the agent exits anyway
  });
});

describe("self tags (one CreateTags a change)", () => {
  it("coalesces what changes in one tick into one call, skips values already there, and serializes", async () => {
    const clock = new FakeClock();
    const ec2 = fakeEc2();
    const tags = new SelfTags({ ec2, clock, log: silentLogger }, "i-1", 30_000);
    tags.set({ SynktiEndpoint: "127.1.2.3:8080" });
    tags.set({ SynktiState: "booting" });
    await settle(clock);
    expect(ec2.calls.map((c) => c.tags)).toEqual([{ SynktiEndpoint: "127.1.2.3:8080", SynktiState: "booting" }]);

    // While that call is in flight the model server becomes healthy: no second concurrent call.
    tags.set({ SynktiState: "serving" });
    await settle(clock);
    expect(ec2.calls).toHaveLength(1);
    ec2.calls[0]!.land();
    await settle(clock);
    // Only the key that changed is sent again.
    expect(ec2.calls.map((c) => c.tags)).toEqual([{ SynktiEndpoint: "127.1.2.3:8080", SynktiState: "booting" }, { SynktiState: "serving" }]);
    ec2.calls[1]!.land();
    await settle(clock);
    tags.set({ SynktiState: "serving", SynktiEndpoint: "127.1.2.3:8080" }); // nothing new: no call
    await clock.advance(60_000);
    expect(ec2.calls).toHaveLength(2);
    expect(ec2.instance).toEqual({ SynktiEndpoint: "127.1.2.3:8080", SynktiState: "serving" });
  });

  it("retries a refused write every retry interval, with the state that is latest then", async () => {
    const clock = new FakeClock();
    const ec2 = fakeEc2();
    const tags = new SelfTags({ ec2, clock, log: silentLogger }, "i-1", 30_000);
    tags.set({ SynktiState: "serving" });
    await settle(clock);
    ec2.calls[0]!.refuse();
    await settle(clock);
    tags.set({ SynktiState: "draining" }); // SIGTERM during the backoff
    await clock.advance(29_000);
    expect(ec2.calls).toHaveLength(1);
    await clock.advance(1000);
    expect(ec2.calls.map((c) => c.tags.SynktiState)).toEqual(["serving", "draining"]);
    ec2.calls[1]!.land();
    await settle(clock);
    expect(ec2.instance.SynktiState).toBe("draining");
  });

  it("close() gives the last state a bounded chance: retries every second, then stops for good", async () => {
    const clock = new FakeClock();
    const ec2 = fakeEc2();
    const tags = new SelfTags({ ec2, clock, log: silentLogger }, "i-1", 30_000);
    tags.set({ SynktiState: "retiring" });
    await settle(clock);
    ec2.calls[0]!.refuse();
    await settle(clock);
    const closed = tags.close(5000);
    await settle(clock);
    // The 30 s wait was cut short: closing retries every second.
    expect(ec2.calls).toHaveLength(2);
    ec2.calls[1]!.refuse();
    await clock.advance(1000);
    expect(ec2.calls).toHaveLength(3);
    ec2.calls[2]!.land();
    expect(await closed).toBe(true);
    expect(ec2.instance.SynktiState).toBe("retiring");
    tags.set({ SynktiState: "booting" }); // after close: ignored
    await clock.advance(60_000);
    expect(ec2.calls).toHaveLength(3);
  });
});

describe("worker state rules", () => {
  it("maps the model server to booting/serving/failed", () => {
    expect(["starting", "healthy", "unhealthy", "restarting", "failed"].map((s) => stateOfModelServer(s as never))).toEqual(["booting", "serving", "booting", "booting", "failed"]);
  });

  it.each([
    [undefined, "booting", "booting"],
    ["booting", "serving", "serving"],
    ["serving", "booting", "booting"], // unhealthy or restarting: no traffic
    ["draining", "serving", "draining"], // one last good probe while stopping
    ["draining", "retiring", "retiring"],
    ["retiring", "draining", "retiring"],
    ["failed", "retiring", "failed"], // SIGTERM while a failed worker lingers
    ["serving", "failed", "failed"],
  ] as const)("%s + %s -> %s", (current, proposed, expected) => {
    expect(nextState(current, proposed)).toBe(expected);
  });

  it("SynktiNotice: a spot notice's termination time; a rebalance's time only while no spot notice is known", () => {
    const spot: InterruptionEvent = { kind: "spot-interruption", id: "a", observedAt: 0, action: "terminate", time: "2026-01-01T00:02:00Z" };
    const rebalance: InterruptionEvent = { kind: "rebalance-recommendation", id: "b", observedAt: 0, noticeTime: "2026-01-01T00:00:00Z" };
    expect(noticeValue(rebalance, undefined)).toBe("2026-01-01T00:00:00Z");
    expect(noticeValue(spot, { fromSpotNotice: false })).toBe("2026-01-01T00:02:00Z");
    expect(noticeValue(rebalance, { fromSpotNotice: true })).toBeUndefined();
  });
});

describe("worker reporter", () => {
  function setup(options: { bootLog?: string } = {}) {
    const clock = new FakeClock();
    const ec2 = fakeEc2();
    ec2.auto = true;
    const objects = new Map<string, { body: string; contentType: string }>();
    let s3Down = false;
    const store = {
      puts: 0,
      async put(key: string, body: string, contentType: string) {
        store.puts += 1;
        if (s3Down) throw new Error("S3 unreachable");
        objects.set(key, { body, contentType });
      },
    };
    const reporter = new WorkerReporter({ ec2, store, clock, log: silentLogger }, { instanceId: "i-1", names: projectNames("demo"), bootLog: options.bootLog, retryMs: 30_000 });
    return { clock, ec2, objects, store, reporter, setS3Down: (down: boolean) => (s3Down = down) };
  }

  it("a stopping worker never shows serving again, and a failure leaves the record with the state", async () => {
    const t = setup();
    t.reporter.state("booting");
    t.reporter.state("serving");
    await settle(t.clock);
    t.reporter.state("draining");
    t.reporter.state("serving");
    await settle(t.clock);
    expect(t.ec2.instance.SynktiState).toBe("draining");

    const landed = await t.reporter.fail(1, "the model server could not be kept alive:\n 5 crashes", 5000);
    expect(landed).toBe(true);
    expect(t.ec2.instance.SynktiState).toBe("failed");
    const record = JSON.parse(t.objects.get("checkpoints/logs/i-1.json")!.body);
    expect(record).toEqual({ instanceId: "i-1", at: "2026-01-01T00:00:00.000Z", exitCode: 1, reason: "the model server could not be kept alive: 5 crashes" });
    expect(t.objects.has("checkpoints/logs/i-1.log")).toBe(false); // no boot log known: none written
  });

  it("SynktiServedAt comes with the first serving, in the same CreateTags, and never moves afterwards", async () => {
    const t = setup();
    t.reporter.state("booting");
    await settle(t.clock);
    expect(t.ec2.instance.SynktiServedAt).toBeUndefined();
    await t.clock.advance(90_000);
    t.reporter.state("serving");
    await settle(t.clock);
    expect(t.ec2.calls.at(-1)!.tags).toEqual({ SynktiState: "serving", SynktiServedAt: "2026-01-01T00:01:30.000Z" });
    t.reporter.state("booting"); // a restart of the model server
    await t.clock.advance(60_000);
    t.reporter.state("serving");
    await settle(t.clock);
    expect(t.ec2.calls.at(-1)!.tags).toEqual({ SynktiState: "serving" });
    expect(t.ec2.instance.SynktiServedAt).toBe("2026-01-01T00:01:30.000Z");
  });

  it("fail() waits at most its bound when S3 cannot be reached, then the agent goes on", async () => {
    const t = setup();
    t.setS3Down(true);
    const landed = t.reporter.fail(3, "worker preflight UNKNOWN: instance-role: IMDS did not answer", 5000);
    await t.clock.advance(5000);
    expect(await landed).toBe(false);
    expect(t.ec2.instance.SynktiState).toBe("failed"); // the tag still made it
    const closing = t.reporter.close(2000);
    await t.clock.advance(2000);
    await closing;
    const puts = t.store.puts;
    await t.clock.advance(120_000);
    expect(t.store.puts).toBe(puts); // closed: no write after
  });

  it("a spot notice sets SynktiNotice; a later rebalance does not replace it", async () => {
    const t = setup();
    t.reporter.notice({ kind: "spot-interruption", id: "a", observedAt: 0, action: "terminate", time: "2026-01-01T00:02:00Z" });
    await settle(t.clock);
    t.reporter.notice({ kind: "rebalance-recommendation", id: "b", observedAt: 0, noticeTime: "2026-01-01T00:01:00Z" });
    await settle(t.clock);
    expect(t.ec2.instance.SynktiNotice).toBe("2026-01-01T00:02:00Z");
    expect(t.ec2.calls).toHaveLength(1);
  });
});
