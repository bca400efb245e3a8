import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { HEALTH_CHECK } from "../../infra/load-balancer-settings.js";

/** What a drain needs from the worker: stop the load balancer's traffic, and know when it stopped. */
export interface DrainTarget {
  /** /healthz 503 and DeregisterTargets, at once (LoadBalancerMember.stopTraffic). */
  stopTraffic(): void;
  /** Waits until the deregistration landed in AWS, at most `timeoutMs`; true if it did. */
  left(timeoutMs: number): Promise<boolean>;
}

export interface DrainDeps {
  clock: Clock;
  log: Logger;
  target: DrainTarget;
  /** Requests the model server is serving now (vLLM's vllm:num_requests_running); undefined: unknown. */
  inFlight(signal: AbortSignal): Promise<number | undefined>;
}

export interface DrainOptions {
  /** Clock time by which the drain ends, requests in flight or not (the caller's budget). */
  deadlineAt: number;
  /** How often in-flight requests are counted. */
  pollMs: number;
  /**
   * When the deregistration did not land (throttled, denied), only the health checks take the target
   * out: they must see /healthz 503 `unhealthyThreshold` times first. Default: ALB's, 2 x 5 s.
   */
  unregisteredSettleMs?: number;
}

export interface DrainResult {
  /** idle: nothing in flight; deadline: time ran out first; aborted: the caller stopped waiting. */
  outcome: "idle" | "deadline" | "aborted";
  deregistered: boolean;
  /** The last count read (undefined: never known). */
  inFlight: number | undefined;
  tookMs: number;
}

export const UNREGISTERED_SETTLE_MS = HEALTH_CHECK.intervalSeconds * HEALTH_CHECK.unhealthyThreshold * 1000;

/**
 * Drains this worker so no request fails: stop new traffic (/healthz 503, leave the target group),
 * then wait until the requests already running have ended or the deadline comes, whichever is
 * first. Only then may the caller stop the model server. Used on SIGTERM and (issue 11) by the
 * failover's DRAIN phase, each with its own deadline; `signal` ends the wait early.
 */
export async function drainWorker(deps: DrainDeps, options: DrainOptions, signal?: AbortSignal): Promise<DrainResult> {
  const { clock, log, target } = deps;
  const started = clock.now();
  const left = () => Math.max(0, options.deadlineAt - clock.now());
  const result = (outcome: DrainResult["outcome"], deregistered: boolean, inFlight: number | undefined): DrainResult => ({ outcome, deregistered, inFlight, tookMs: clock.now() - started });
  const settleMs = options.unregisteredSettleMs ?? UNREGISTERED_SETTLE_MS;
  target.stopTraffic();
  // Waiting longer than the health checks need is pointless: by then /healthz 503 took it out anyway.
  const deregistered = await target.left(Math.min(left(), settleMs));
  // Not deregistered: the load balancer still routes here until its health checks saw 503 enough.
  const quietFrom = deregistered ? started : started + settleMs;
  if (!deregistered) log.warn({ settleMs: quietFrom - started }, "the deregistration has not landed; waiting for the health checks to take this instance out");
  const wait = signal ?? new AbortController().signal;
  let inFlight: number | undefined;
  let warnedUnknown = false;
  for (;;) {
    if (wait.aborted) return result("aborted", deregistered, inFlight);
    if (clock.now() >= quietFrom) {
      inFlight = await deps.inFlight(wait).catch(() => undefined);
      if (inFlight === 0) {
        log.info({ tookMs: clock.now() - started, deregistered }, "drained: no request in flight");
        return result("idle", deregistered, 0);
      }
      if (inFlight === undefined && !warnedUnknown) {
        warnedUnknown = true;
        log.warn("cannot count the model server's requests in flight (/metrics); waiting until the drain deadline");
      }
    }
    if (left() <= 0) {
      log.warn({ inFlight, tookMs: clock.now() - started }, "drain deadline reached with requests possibly in flight; stopping the model server anyway (it gets its own grace)");
      return result("deadline", deregistered, inFlight);
    }
    try {
      const nap = clock.now() < quietFrom ? quietFrom - clock.now() : options.pollMs;
      await clock.sleep(Math.min(nap, left()), wait);
    } catch {
      return result("aborted", deregistered, inFlight);
    }
  }
}
