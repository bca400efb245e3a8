/**
 * The load balancer stand-in's target table: pure bookkeeping, time from an injected clock, no I/O.
 * It holds what ALB keeps per registered target (instance id + port): its health state and reason,
 * the consecutive check results that move it between states, its outstanding requests, and, once
 * deregistered, its draining deadline. The stand-in feeds it moto's listing and its own health
 * checks; the table answers "which target gets this request" and "which draining ones are done".
 */
import type { Clock } from "../../../src/core/clock.js";

export type TargetState = "initial" | "healthy" | "unhealthy" | "draining";

export interface RegisteredTarget {
  instanceId: string;
  port: number;
}

/** One health check's outcome, with ALB's reason code and description when it failed. */
export type CheckResult = { ok: true } | { ok: false; reason: string; description: string };

export interface Thresholds {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/** What `targets()` shows, shaped like DescribeTargetHealth's TargetHealth (reason codes are ALB's). */
export interface TargetHealthView {
  instanceId: string;
  port: number;
  state: TargetState;
  reason?: string;
  description?: string;
}

interface Target extends RegisteredTarget {
  key: string;
  state: TargetState;
  reason?: string;
  description?: string;
  successes: number;
  failures: number;
  checked: boolean;
  outstanding: number;
  drainUntil?: number;
}

export const targetKey = (t: RegisteredTarget) => `${t.instanceId}:${t.port}`;

export class TargetTable {
  private readonly targets = new Map<string, Target>();
  private readonly routed = new Map<string, number>();
  private cursor = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Takes the group's current registrations. New ones start `initial` (RegistrationInProgress until
   * their first check); ones gone from the listing start draining until now + delay; one registered
   * again while draining starts over as `initial`. Returns the keys that need health checks started.
   * Call `sweep()` after it: a target with nothing in flight completes deregistration there.
   */
  sync(registered: readonly RegisteredTarget[], deregistrationDelayMs: number): string[] {
    const now = this.clock.now();
    const seen = new Set<string>();
    const added: string[] = [];
    for (const r of registered) {
      const key = targetKey(r);
      seen.add(key);
      const known = this.targets.get(key);
      if (known && known.state !== "draining") continue;
      const fresh: Target = { ...r, key, state: "initial", reason: "Elb.RegistrationInProgress", description: "Target registration is in progress", successes: 0, failures: 0, checked: false, outstanding: known?.outstanding ?? 0 };
      this.targets.set(key, fresh);
      added.push(key);
    }
    for (const t of this.targets.values()) {
      if (seen.has(t.key) || t.state === "draining") continue;
      Object.assign(t, { state: "draining", reason: "Target.DeregistrationInProgress", description: "Target deregistration is in progress", drainUntil: now + deregistrationDelayMs });
    }
    return added; // the caller sweeps next, to complete or cut what drains
  }

  /** A health check's result; ignored for a target that is gone or draining (no longer checked). */
  record(key: string, result: CheckResult, thresholds: Thresholds): void {
    const t = this.targets.get(key);
    if (!t || t.state === "draining") return;
    t.checked = true;
    if (result.ok) {
      t.successes += 1;
      t.failures = 0;
      if (t.state !== "healthy" && t.successes >= thresholds.healthyThreshold) Object.assign(t, { state: "healthy", reason: undefined, description: undefined });
      else if (t.state === "initial") Object.assign(t, { reason: "Elb.InitialHealthChecking", description: "Initial health checks in progress" });
    } else {
      t.failures += 1;
      t.successes = 0;
      if (t.state !== "unhealthy" && t.failures >= thresholds.unhealthyThreshold) t.state = "unhealthy";
      if (t.state === "unhealthy") Object.assign(t, { reason: result.reason, description: result.description });
      else if (t.state === "initial") Object.assign(t, { reason: "Elb.InitialHealthChecking", description: "Initial health checks in progress" });
    }
  }

  /**
   * least_outstanding_requests: the healthy target with the fewest requests in flight; among equals
   * the next one after the last pick (round robin), so an idle fleet still spreads its requests.
   * None healthy: undefined (the stand-in answers 503).
   */
  pick(algorithm = "least_outstanding_requests"): (RegisteredTarget & { key: string }) | undefined {
    const healthy = [...this.targets.values()].filter((t) => t.state === "healthy").sort((a, b) => a.key.localeCompare(b.key));
    if (healthy.length === 0) return undefined;
    // round_robin (ALB's default) ignores what is in flight: every target counts as least loaded.
    const load = (t: Target) => (algorithm === "least_outstanding_requests" ? t.outstanding : 0);
    const least = Math.min(...healthy.map(load));
    const start = this.cursor % healthy.length;
    for (let i = 0; i < healthy.length; i++) {
      const t = healthy[(start + i) % healthy.length]!;
      if (load(t) !== least) continue;
      this.cursor = (start + i + 1) % healthy.length;
      return { key: t.key, instanceId: t.instanceId, port: t.port };
    }
    return undefined; // unreachable: some target has the least count
  }

  /** A request was sent to the target. */
  begin(key: string): void {
    const t = this.targets.get(key);
    if (!t) return;
    t.outstanding += 1;
    this.routed.set(t.instanceId, (this.routed.get(t.instanceId) ?? 0) + 1);
  }

  /** Its request ended (answered, failed or cut): a draining target with none left is done. */
  end(key: string): void {
    const t = this.targets.get(key);
    if (!t) return;
    t.outstanding = Math.max(0, t.outstanding - 1);
    this.sweep();
  }

  /**
   * Completes draining: a draining target leaves the table once nothing is in flight (AWS ends the
   * delay early then) or its delay is over. Returns the keys whose delay ran out with requests
   * still in flight: the caller cuts those requests, as ALB does.
   */
  sweep(): string[] {
    const now = this.clock.now();
    const cut: string[] = [];
    for (const t of [...this.targets.values()]) {
      if (t.state !== "draining") continue;
      if (t.outstanding > 0 && now < (t.drainUntil ?? 0)) continue;
      if (t.outstanding > 0) cut.push(t.key);
      this.targets.delete(t.key);
    }
    return cut;
  }

  has(key: string): boolean {
    const t = this.targets.get(key);
    return t !== undefined && t.state !== "draining";
  }

  outstanding(key: string): number {
    return this.targets.get(key)?.outstanding ?? 0;
  }

  list(): TargetHealthView[] {
    return [...this.targets.values()]
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((t) => ({ instanceId: t.instanceId, port: t.port, state: t.state, ...(t.reason ? { reason: t.reason } : {}), ...(t.description ? { description: t.description } : {}) }));
  }

  /** Requests sent to each instance since the start (draining and removed targets included). */
  requests(): Record<string, number> {
    return Object.fromEntries(this.routed);
  }
}

/** ALB's matcher syntax: "200", "200,202", "200-299". */
export function matchesCode(status: number, matcher: string): boolean {
  return matcher.split(",").some((part) => {
    const [low, high] = part.trim().split("-").map(Number) as [number, number | undefined];
    return high === undefined ? status === low : status >= low && status <= high;
  });
}
