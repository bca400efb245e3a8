import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { AuthCheck } from "./auth-check.js";
import type { TargetRegistration } from "./target-registration.js";
import { messageOf } from "../../core/errors.js";

export interface MemberDeps {
  registration: Pick<TargetRegistration, "join" | "leave" | "flush" | "registered">;
  /** Asks the model server whether its authentication is on (checkModelServerAuth). */
  checkAuth(signal: AbortSignal): Promise<AuthCheck>;
  /** Whether `synkti down` has begun on this instance (its SynktiStopping tag, read at each join). */
  downBegun(signal: AbortSignal): Promise<boolean>;
  /** Whether the model server is healthy now: a check is only meaningful (and counted) then. */
  modelServerHealthy(): boolean;
  clock: Clock;
  log: Logger;
  /** The model server must not take the load balancer's traffic: the agent gives this instance up. */
  onRefused(reason: string): void;
}

export interface MemberOptions {
  /** Between two inconclusive auth checks. */
  retryMs: number;
  /** Inconclusive checks in a row before refusing (a model server that cannot show its auth is on). */
  attempts: number;
}

export const DEFAULT_MEMBER_OPTIONS: MemberOptions = { retryMs: 2000, attempts: 5 };

/**
 * The worker's side of the load balancer: whether it takes traffic, and when it joins. `/healthz`
 * (the target group's health check) is 200 only while the model server is healthy and the worker is
 * not draining. Each time the model server becomes healthy, the auth check runs first and only then
 * does the instance register; a model server that serves without the project's key never joins
 * (`onRefused`). Nor does an instance `synkti down` has begun on (SynktiStopping=true): it is about
 * to be terminated, so it never joins and `/healthz` stays 503. A crash does not deregister: the health checks take the target out within two
 * intervals and the in-flight requests are lost either way; the next healthy start joins again.
 * `stopTraffic` (a drain: SIGTERM, the failover) is final.
 */
export class LoadBalancerMember {
  private draining = false;
  private verifying = false;
  private refused = false;
  private stopping = false;
  private readonly stop = new AbortController();

  constructor(
    private readonly deps: MemberDeps,
    private readonly options: MemberOptions = DEFAULT_MEMBER_OPTIONS,
  ) {}

  /** GET /healthz: 200 when true. */
  serving(modelServerHealthy: boolean): boolean {
    return modelServerHealthy && !this.draining && !this.refused && !this.stopping;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get registered(): boolean {
    return this.deps.registration.registered;
  }

  /** The model server just became healthy: check its auth, then join. Runs in the background. */
  onModelServerHealthy(): void {
    if (this.draining || this.refused || this.stopping || this.verifying) return;
    this.verifying = true;
    void this.verifyThenJoin().finally(() => (this.verifying = false));
  }

  /** No new requests from now on: /healthz 503 and DeregisterTargets (in the background). */
  stopTraffic(): void {
    if (this.draining) return;
    this.draining = true;
    this.stop.abort(new Error("draining"));
    this.deps.log.info("draining: /healthz answers 503 and this instance leaves the target group");
    this.deps.registration.leave();
  }

  /** Waits until the deregistration landed, at most `timeoutMs`; true if it did. */
  left(timeoutMs: number): Promise<boolean> {
    return this.deps.registration.flush(timeoutMs);
  }

  /**
   * Reads the stop marker just before joining. A read that fails (the metadata service restarting)
   * does not keep a healthy worker out: it joins, and down's deregistration covers every instance of
   * the project anyway.
   */
  private async downBegun(): Promise<boolean> {
    try {
      if (!(await this.deps.downBegun(this.stop.signal))) return false;
    } catch (error) {
      if (this.draining) return true;
      this.deps.log.warn({ error: messageOf(error) }, "could not read this instance's SynktiStopping tag; joining the load balancer");
      return false;
    }
    this.stopping = true;
    this.deps.log.info("synkti down has begun on this instance (SynktiStopping=true): not joining the load balancer; /healthz stays 503");
    return true;
  }

  private async verifyThenJoin(): Promise<void> {
    const { clock, log } = this.deps;
    for (let attempt = 1; !this.draining; attempt++) {
      const check = await this.deps.checkAuth(this.stop.signal);
      // Went down meanwhile (a crash, a restart): its next healthy start checks afresh.
      if (this.draining || !this.deps.modelServerHealthy()) return;
      if (check.kind === "enforced") {
        log.debug("model server authentication verified: 401 without the API key, 200 with it");
        if (await this.downBegun()) return;
        this.deps.registration.join();
        return;
      }
      if (check.kind !== "inconclusive" || attempt >= this.options.attempts) {
        this.refused = true;
        const reason = check.kind === "inconclusive" ? `could not verify the model server's authentication after ${attempt} tries: ${check.reason}` : check.reason;
        log.error({ check: check.kind }, `not joining the load balancer: ${reason}`);
        this.deps.onRefused(reason);
        return;
      }
      log.warn({ attempt, reason: check.reason }, "could not verify the model server's authentication yet; asking again");
      try {
        await clock.sleep(this.options.retryMs, this.stop.signal);
      } catch {
        return; // draining
      }
    }
  }
}
