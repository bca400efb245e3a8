import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { DEFAULT_SUPERVISOR_CONFIG, ModelServerSupervisor, type SupervisorConfig } from "../../../src/worker/model-server/supervisor.js";
import { FakeClock } from "../../support/fake-clock.js";
import { FakeProcesses } from "./fake-process.js";

const config: SupervisorConfig = {
  ...DEFAULT_SUPERVISOR_CONFIG,
  argv: ["vllm", "serve", "/models/m"],
  env: {},
  readyTimeoutMs: 60_000,
  startPollMs: 1000,
  healthIntervalMs: 2000,
  unhealthyAfterFailures: 3,
  restartUnhealthyAfterMs: 10_000,
  stopGraceMs: 5000,
};

function setup(overrides: Partial<SupervisorConfig> = {}) {
  const clock = new FakeClock();
  const procs = new FakeProcesses();
  let healthy = false;
  const supervisor = new ModelServerSupervisor(
    { clock, log: silentLogger, spawn: procs.spawn, kill: procs.kill, probes: { healthy: async () => healthy, inFlight: async () => undefined } },
    { ...config, ...overrides },
  );
  const controller = new AbortController();
  const outcome = supervisor.run(controller.signal);
  return {
    clock, procs, supervisor, controller, outcome,
    setHealthy: (value: boolean) => (healthy = value),
  };
}

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe("model server supervisor", () => {
  it("starts the command in its own process group and is healthy once /health answers", async () => {
    const t = setup();
    cleanup = () => t.controller.abort();
    await t.clock.advance(0);
    expect(t.procs.children).toHaveLength(1);
    expect(t.procs.latest().argv).toEqual(["vllm", "serve", "/models/m"]);
    expect(t.supervisor.status()).toMatchObject({ state: "starting", restarts: 0, pid: 1000 });
    await t.clock.advance(5000);
    expect(t.supervisor.status().state).toBe("starting");
    t.setHealthy(true);
    await t.clock.advance(1000);
    expect(t.supervisor.status()).toMatchObject({ state: "healthy", pid: 1000 });
  });

  it("restarts a crashed server with exponential backoff, then gives up after 5 crashes in 10 minutes", async () => {
    const t = setup();
    t.setHealthy(true);
    const delays: number[] = [];
    for (let crash = 1; crash <= 4; crash++) {
      await t.clock.advance(1000); // the first start polls /health once a second
      expect(t.supervisor.status().state).toBe("healthy");
      t.procs.latest().crash(1);
      await t.clock.settle();
      await t.clock.settle();
      expect(t.supervisor.status()).toMatchObject({ state: "restarting", restarts: crash, lastExit: { code: 1, reason: "exited with code 1" } });
      const spawned = t.procs.children.length;
      let waited = 0;
      while (t.procs.children.length === spawned) {
        await t.clock.advance(500);
        waited += 500;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    await t.clock.advance(0);
    t.procs.latest().crash(137);
    expect(await t.outcome).toEqual({ kind: "gave-up", reason: "the model server could not be kept alive: 5 crashes within 10 minutes (last: exited with code 137)" });
    expect(t.supervisor.status()).toMatchObject({ state: "failed", restarts: 4, failure: expect.stringContaining("5 crashes") });
    expect(t.supervisor.status().pid).toBeUndefined();
    expect(t.procs.children).toHaveLength(5);
  });

  it("keeps a server alive that crashes rarely", async () => {
    const t = setup();
    cleanup = () => t.controller.abort();
    t.setHealthy(true);
    for (let i = 0; i < 8; i++) {
      await t.clock.advance(0);
      t.procs.latest().crash(1);
      await t.clock.settle();
      await t.clock.advance(5 * 60_000); // one crash every ~5 minutes: never 5 within 10
    }
    expect(t.supervisor.status()).toMatchObject({ state: "healthy", restarts: 8 });
  });

  it("a server that never becomes healthy is stopped and restarted after the ready timeout", async () => {
    const t = setup({ readyTimeoutMs: 30_000 });
    cleanup = () => t.controller.abort();
    await t.clock.advance(29_000);
    expect(t.supervisor.status().state).toBe("starting");
    await t.clock.advance(2000);
    expect(t.procs.signals).toContainEqual({ pid: -1000, signal: "SIGTERM" });
    expect(t.supervisor.status()).toMatchObject({ state: "restarting", restarts: 1, lastExit: { reason: "not healthy within 30 s of its start" } });
  });

  it("alive but failing /health: unhealthy, then restarted when it does not recover", async () => {
    const t = setup();
    cleanup = () => t.controller.abort();
    t.setHealthy(true);
    await t.clock.advance(1000);
    expect(t.supervisor.status().state).toBe("healthy");
    t.setHealthy(false);
    await t.clock.advance(2000 * 2);
    expect(t.supervisor.status().state).toBe("healthy"); // two misses are not enough
    await t.clock.advance(2000);
    expect(t.supervisor.status().state).toBe("unhealthy");
    t.setHealthy(true);
    await t.clock.advance(2000);
    expect(t.supervisor.status()).toMatchObject({ state: "healthy", restarts: 0 }); // recovered on its own
    t.setHealthy(false);
    await t.clock.advance(6000);
    expect(t.supervisor.status().state).toBe("unhealthy");
    t.procs.latest().obeysTerm = false; // hung: only SIGKILL ends it
    await t.clock.advance(10_000);
    expect(t.procs.signals).toContainEqual({ pid: -1000, signal: "SIGTERM" });
    await t.clock.advance(5000); // the grace period
    expect(t.procs.signals).toContainEqual({ pid: -1000, signal: "SIGKILL" });
    await t.clock.settle();
    expect(t.supervisor.status()).toMatchObject({ state: "restarting", restarts: 1, lastExit: { signal: "SIGKILL", reason: expect.stringMatching(/alive but unhealthy for \d+ s/) } });
  });

  it("stops gracefully on abort: SIGTERM to the group, SIGKILL after the grace period", async () => {
    const t = setup();
    t.setHealthy(true);
    await t.clock.advance(1000);
    t.procs.latest().obeysTerm = false;
    t.controller.abort();
    await t.clock.settle();
    expect(t.procs.signals).toEqual([{ pid: -1000, signal: "SIGTERM" }]);
    await t.clock.advance(4999);
    expect(t.procs.signals).toHaveLength(1);
    await t.clock.advance(1);
    expect(await t.outcome).toEqual({ kind: "stopped" });
    expect(t.procs.signals.slice(0, 2)).toEqual([{ pid: -1000, signal: "SIGTERM" }, { pid: -1000, signal: "SIGKILL" }]);
    expect(t.procs.children).toHaveLength(1);
  });

  it("once the worker stops, a server that exits (the OS shutdown's own SIGTERM) is not restarted", async () => {
    const t = setup();
    t.setHealthy(true);
    await t.clock.advance(1000);
    expect(t.supervisor.status().state).toBe("healthy");
    t.supervisor.noMoreRestarts(); // the worker drains before it stops the server itself
    t.procs.latest().crash(0);
    await t.clock.advance(10_000);
    expect(await t.outcome).toEqual({ kind: "stopped" });
    expect(t.procs.children).toHaveLength(1); // no second model load on a machine that is going
  });

  it("a command that cannot start counts as a crash", async () => {
    const t = setup();
    cleanup = () => t.controller.abort();
    t.procs.latest().emit("error", Object.assign(new Error("spawn vllm ENOENT"), { code: "ENOENT" }));
    t.procs.latest().exit(-2);
    await t.clock.settle();
    await t.clock.settle();
    expect(t.supervisor.status()).toMatchObject({ state: "restarting", restarts: 1 });
  });
});
