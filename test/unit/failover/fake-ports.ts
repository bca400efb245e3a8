import { silentLogger } from "../../../src/core/log.js";
import { FailoverRunner, type FailoverPorts, type StateFile, type StateStore } from "../../../src/failover/index.js";
import type { FailoverSettings, LaunchRequest, Pool, PoolObservation } from "../../../src/failover/types.js";
import { TAG_REPLACES } from "../../../src/infra/names.js";
import type { FakeClock } from "../../support/fake-clock.js";

/**
 * Fakes of the failover's ports, playing a small EC2 and the doomed worker:
 * - `launch` answers per pool from `script` (`capacity`, `throttled`, `refused`, `lost`: the
 *   instance is created but the answer never comes, like an agent dying mid-call), else creates
 *   an instance `i-r<n>` carrying the request's tags; it ignores the ClientToken, like moto;
 * - a replacement serves `serveAfterMs` after its launch (per pool; `Infinity`: never);
 * - `drain` finishes when in-flight requests end at `idleAt`, or answers `stuck` at `until`.
 */
export interface FakeInstance {
  instanceId: string;
  pool: Pool;
  tags: Record<string, string>;
  state: "running" | "terminated";
  launchedAt: number;
}

export const T0 = Date.parse("2026-01-01T00:00:00Z");
export const iso = (ms: number) => new Date(ms).toISOString();
export const key = (type: string, zone: string) => `${type}/${zone}`;

export const settings = (over: Partial<FailoverSettings> = {}): FailoverSettings => ({
  project: "demo",
  doomed: { instanceId: "i-doomed", instanceType: "g5.xlarge", zone: "us-east-1a", slot: "1" },
  instanceTypes: ["g5.xlarge", "g6.xlarge"],
  onDemandFallback: false,
  healthBudgetMs: 60_000,
  healthPollMs: 2_000,
  throttleBackoffMs: 1_000,
  failureMemoryMs: 600_000,
  ...over,
});

export class FakeWorld implements FailoverPorts {
  instances: FakeInstance[] = [];
  launches: { at: number; request: LaunchRequest }[] = [];
  drains: { at: number; until: number }[] = [];
  terminated: { at: number; instanceId: string }[] = [];
  stops: number[] = [];
  selfTerminations: number[] = [];
  script = new Map<string, string[]>();
  serveAfterMs = new Map<string, number>();
  defaultServeAfterMs = 30_000;
  idleAt?: number;
  stuck = 2;
  observation: PoolObservation = {
    peers: [{ instanceType: "g5.xlarge", zone: "us-east-1b" }],
    lbZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
    recentFailures: [],
    stopping: false,
  };

  constructor(private readonly clock: FakeClock) {}

  async drain(until: number, signal: AbortSignal): Promise<{ inFlight: number | undefined }> {
    this.drains.push({ at: this.clock.now(), until });
    const idle = this.idleAt !== undefined && this.idleAt < until;
    await this.clock.sleep((idle ? this.idleAt! : until) - this.clock.now(), signal);
    return { inFlight: idle ? 0 : this.stuck };
  }

  async observePools() {
    return this.observation;
  }

  async findReplacement(doomedId: string) {
    const found = this.instances.find((i) => i.state === "running" && i.tags[TAG_REPLACES] === doomedId);
    return found && { instanceId: found.instanceId, pool: found.pool };
  }

  async launch(request: LaunchRequest, signal: AbortSignal): ReturnType<FailoverPorts["launch"]> {
    this.launches.push({ at: this.clock.now(), request });
    const pool = { instanceType: request.candidate.instanceType, zone: request.candidate.zone };
    const next = this.script.get(key(pool.instanceType, pool.zone))?.shift();
    if (next === "capacity" || next === "throttled" || next === "refused") return { failure: next, message: `${next} in ${key(pool.instanceType, pool.zone)}` } as const;
    const instanceId = `i-r${this.instances.length + 1}`;
    this.instances.push({ instanceId, pool, tags: { ...request.tags }, state: "running", launchedAt: this.clock.now() });
    if (next === "lost") await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    return { instanceId };
  }

  async replacementStatus(instanceId: string) {
    const i = this.instances.find((x) => x.instanceId === instanceId)!;
    const after = this.serveAfterMs.get(key(i.pool.instanceType, i.pool.zone)) ?? this.defaultServeAfterMs;
    const serving = i.state === "running" && this.clock.now() >= i.launchedAt + after;
    return { state: serving ? "serving" : "booting", targetHealthy: serving };
  }

  async terminateReplacement(instanceId: string) {
    this.terminated.push({ at: this.clock.now(), instanceId });
    this.instances.find((x) => x.instanceId === instanceId)!.state = "terminated";
  }

  async stopModelServer() {
    this.stops.push(this.clock.now());
  }

  async terminateSelf() {
    this.selfTerminations.push(this.clock.now());
  }

  /** When the replacement first answered `serving` (for the "never below its size" checks). */
  servingSince(instanceId: string): number {
    const i = this.instances.find((x) => x.instanceId === instanceId)!;
    return i.launchedAt + (this.serveAfterMs.get(key(i.pool.instanceType, i.pool.zone)) ?? this.defaultServeAfterMs);
  }
}

/** The state file as JSON text, like the real one: what survives a restart is only what was saved. */
export class MemoryStore implements StateStore {
  text?: string;
  saves = 0;
  async load() {
    return this.text === undefined ? undefined : JSON.parse(this.text);
  }
  async save(file: StateFile) {
    this.saves += 1;
    this.text = JSON.stringify(file);
  }
}

export async function startRunner(clock: FakeClock, world: FakeWorld, store = new MemoryStore(), over: Partial<FailoverSettings> = {}) {
  const runner = new FailoverRunner({ clock, log: silentLogger, ports: world, store }, settings(over));
  await runner.start();
  return { runner, store };
}

export const spot = (id: string, time: number) => ({ kind: "spot-interruption" as const, id, time: iso(time) });
export const rebalance = (id: string) => ({ kind: "rebalance-recommendation" as const, id });
