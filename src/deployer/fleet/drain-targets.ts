import { awsErrorName, classifyAwsError } from "../../aws/errors.js";
import type { ProjectNames } from "../../infra/names.js";
import type { ProjectLoadBalancer, TargetHealthInfo } from "../endpoint/load-balancer.js";
import type { FleetDeps } from "./terminate.js";
import { pollUntil } from "../../core/poll.js";
import { messageOf } from "../../core/errors.js";

/**
 * The first half of `synkti down`: take every target out of the project's target group and wait
 * until the load balancer has let their in-flight requests finish, so terminating the instances
 * afterwards cuts no request. AWS ends a target's draining early once nothing is in flight, else
 * after the target group's deregistration delay: the wait is bounded by that delay plus a margin,
 * then down goes on with a warning.
 *
 * Nothing here may stop the termination: a missing target group, a refused call or a wait that
 * ends at its deadline is reported (`warning`) and down terminates anyway. Only an abort propagates.
 */
export interface DrainOptions {
  /** Read only: say what would be deregistered. */
  dryRun?: boolean;
  /** Added to the deregistration delay for the wait's deadline (AWS's own clock and ours differ). */
  marginMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

export interface DrainReport {
  /** The target group's name; null when there is none (or it could not be read). */
  targetGroup: string | null;
  /** Ids taken out (or, in a dry run, that would be). */
  targets: string[];
  /** The most the wait takes: the target group's deregistration delay. */
  delaySeconds: number | null;
  /** Every target finished draining before the deadline (true when there was nothing to drain; false in a dry run). */
  drained: boolean;
  waitedMs: number;
  /** Still draining when down stopped waiting. */
  stillDraining: string[];
  /** Why deregistration was skipped or cut short; termination went on regardless. */
  warning: string | null;
}

export const DRAIN_MARGIN_MS = 15_000;
const DRAINING = new Set(["draining", "unhealthy.draining"]);

export async function drainTargets(
  deps: FleetDeps & { lb: ProjectLoadBalancer },
  names: ProjectNames,
  instanceIds: string[],
  options: DrainOptions = {},
): Promise<DrainReport> {
  const { lb, log } = deps;
  const report: DrainReport = { targetGroup: null, targets: [], delaySeconds: null, drained: true, waitedMs: 0, stillDraining: [], warning: null };
  const warn = (warning: string) => {
    log.warn(`down: ${warning}`);
    return { ...report, drained: false, warning };
  };

  let arn: string;
  let registered: TargetHealthInfo[];
  try {
    const tg = await lb.targetGroup(names, options.signal);
    if (!tg) {
      log.info(`down: no target group ${names.targetGroup}: nothing to deregister`);
      return report;
    }
    [arn, report.targetGroup, report.delaySeconds] = [tg.arn, tg.name, tg.deregistrationDelaySeconds];
    registered = await lb.targetHealth(arn, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return warn(`could not read target group ${names.targetGroup} (${messageOf(error)}); terminating without deregistering first`);
  }

  // Every registered target (a stale one too), and the project's instances in case one is
  // registering itself right now and is not listed yet.
  const listed = registered.filter((t) => !DRAINING.has(t.state));
  const ids = [...new Set([...listed.map((t) => t.id), ...instanceIds])].sort();
  const draining = registered.filter((t) => DRAINING.has(t.state)).map((t) => t.id);
  report.targets = ids;
  if (options.dryRun) return { ...report, drained: false };
  if (ids.length === 0 && draining.length === 0) return report;

  if (ids.length > 0) {
    log.info(`down: deregistering ${ids.length} target(s) from ${report.targetGroup}; waiting for their in-flight requests (at most ${report.delaySeconds} s)`);
    const deregistered = await deregister(lb, arn, ids, listed, options.signal);
    if (deregistered !== true) return warn(`could not deregister the targets from ${report.targetGroup} (${deregistered}); terminating anyway: in-flight requests may be cut`);
  }
  return wait(deps, arn, new Set([...ids, ...draining]), report, options);
}

/**
 * One call for all. An instance that is not registered is accepted by AWS, but an id AWS no longer
 * knows (a terminated instance) fails the whole call with InvalidTarget: then the listed ones alone.
 */
async function deregister(lb: ProjectLoadBalancer, arn: string, ids: string[], listed: TargetHealthInfo[], signal?: AbortSignal): Promise<true | string> {
  const withPort = (id: string) => {
    const port = listed.find((t) => t.id === id)?.port;
    return port === null || port === undefined ? { id } : { id, port };
  };
  try {
    await lb.deregister(arn, ids.map(withPort), signal);
    return true;
  } catch (error) {
    if (signal?.aborted) throw error;
    // Only instances that never registered, and AWS refuses one of them: nothing was in the group.
    if (listed.length === 0 && awsErrorName(error) === "InvalidTarget") return true;
    if (listed.length === 0 || listed.length === ids.length) return messageOf(error);
    try {
      await lb.deregister(arn, listed.map((t) => withPort(t.id)), signal);
      return true;
    } catch (retryError) {
      if (signal?.aborted) throw retryError;
      return messageOf(retryError);
    }
  }
}

async function wait(deps: FleetDeps & { lb: ProjectLoadBalancer }, arn: string, ids: Set<string>, report: DrainReport, options: DrainOptions): Promise<DrainReport> {
  const { clock, log, lb } = deps;
  const started = clock.now();
  const deadlineMs = (report.delaySeconds ?? 0) * 1000 + (options.marginMs ?? DRAIN_MARGIN_MS);
  let lastError: string | undefined;
  let blind = false;
  const outcome = await pollUntil<true, string[]>(
    { clock, deadlineMs, intervalMs: options.intervalMs ?? 2000, maxIntervalMs: 5000, ...(options.signal ? { signal: options.signal } : {}) },
    async () => {
      try {
        const still = (await lb.targetHealth(arn, options.signal)).filter((t) => ids.has(t.id) && DRAINING.has(t.state)).map((t) => t.id);
        if (still.length === 0) return { done: true, value: true };
        const left = Math.max(0, Math.round((started + deadlineMs - clock.now()) / 1000));
        log.info(`down: ${still.length} target(s) still draining (${still.join(", ")}); at most ${left} s more`);
        return { done: false, observed: still };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        lastError = messageOf(error);
        // Refused or gone: waiting longer cannot see anything; the delay has been asked for anyway.
        blind = ["auth", "not-found"].includes(classifyAwsError(error));
        log.warn(`down: could not read the targets' state (${lastError})`);
        return blind ? { done: true, value: true } : { done: false, observed: [...ids] };
      }
    },
  );
  const waitedMs = clock.now() - started;
  if (outcome.done && !blind) {
    log.info(`down: targets drained in ${Math.round(waitedMs / 1000)} s`);
    return { ...report, waitedMs };
  }
  const stillDraining = outcome.done ? [...ids].sort() : [...outcome.observed].sort();
  const why = blind ? `could not watch them drain (${lastError})` : `${stillDraining.length} target(s) still draining after ${Math.round(waitedMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ""}`;
  const warning = `${why}; terminating anyway: requests still in flight on them may be cut`;
  log.warn(`down: ${warning}`);
  return { ...report, drained: false, waitedMs, stillDraining, warning };
}

