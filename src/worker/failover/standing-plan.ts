import type { PlanStatus } from "../../cluster/status-document.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { poolKey, rankPools } from "../../failover/select.js";
import { launchRequest } from "../../failover/spawn-request.js";
import type { Candidate, Doomed, LaunchRequest, PoolObservation } from "../../failover/types.js";
import type { PlanProblem } from "../../infra/names.js";
import { firstPhaseMs, jittered } from "../discovery/budget.js";
import { messageOf } from "../../core/errors.js";

/**
 * The standing plan (issue 11 item 5, the Banker's invariant at run time): a worker never waits for
 * a notice to learn that it could not be replaced. Every refresh it runs SELECT over what it sees
 * now (the pool the failover would pick) and a DryRun of the exact RunInstances request SPAWN
 * would send there, and publishes the outcome: ready, or the problem and its fix. A notice gives
 * 120 s; an IAM policy that drifted, a deleted security group or a single-zone type found then is
 * found too late.
 *
 * Refreshed every max(5 min, cluster size x 10 s), jittered (+-20 %): RunInstances has its own
 * throttle per account, and N workers refreshing in step would spend it together.
 */

/** What the plan needs: SELECT's observation and the DryRun of one candidate's request. */
export interface StandingPlanDeps {
  clock: Clock;
  random: () => number;
  log: Logger;
  observePools(signal: AbortSignal): Promise<PoolObservation>;
  /** The DryRun of the request SPAWN would send (allowed: AWS answered DryRunOperation). */
  dryRun(request: LaunchRequest, signal: AbortSignal): Promise<{ allowed: true } | { allowed: false; reason: string }>;
  /** Live workers the discovery knows (this one included): sets the refresh interval. */
  clusterSize(): number;
  /** The plan changed ready-ness or problem (the SynktiPlan tag follows it). */
  onChange?(plan: PlanStatus): void;
}

export interface StandingPlanOptions {
  project: string;
  self: Doomed;
  instanceTypes: string[];
  failureMemoryMs: number;
  /** Floor of the refresh interval (default 5 min). */
  minIntervalMs?: number;
  /** Added per live worker (default 10 s): the account's RunInstances budget is shared. */
  perWorkerMs?: number;
  /** The first refresh comes within this much of the start (default 30 s), spread by the jitter. */
  firstWithinMs?: number;
}

export const PLAN_MIN_INTERVAL_MS = 300_000;
export const PLAN_PER_WORKER_MS = 10_000;

/** max(floor, size x per worker), jittered by +-20 % (discovery's jitter) with `random()` in [0, 1). */
export function planIntervalMs(clusterSize: number, random: () => number, minMs = PLAN_MIN_INTERVAL_MS, perWorkerMs = PLAN_PER_WORKER_MS): number {
  return jittered(Math.max(minMs, Math.max(1, clusterSize) * perWorkerMs), random);
}

export class StandingPlan {
  private plan: PlanStatus = notReady("pending", "not verified yet: the first check runs shortly after the worker starts", null, null);

  constructor(
    private readonly deps: StandingPlanDeps,
    private readonly options: StandingPlanOptions,
  ) {}

  status(): PlanStatus {
    return { ...this.plan };
  }

  /** Refreshes until `signal` aborts; a refresh never throws (its failure is the plan's problem). */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, random } = this.deps;
    let wait = firstPhaseMs(this.options.firstWithinMs ?? 30_000, random);
    for (;;) {
      try {
        await clock.sleep(wait, signal);
      } catch {
        return;
      }
      await this.refresh(signal);
      if (signal.aborted) return;
      wait = planIntervalMs(this.deps.clusterSize(), random, this.options.minIntervalMs, this.options.perWorkerMs);
    }
  }

  /** One check: SELECT now, then the DryRun of the request for the pool it picked. */
  async refresh(signal: AbortSignal): Promise<PlanStatus> {
    const next = await this.check(signal);
    if (signal.aborted) return this.plan;
    const changed = next.ready !== this.plan.ready || next.code !== this.plan.code || next.pool !== this.plan.pool;
    this.plan = next;
    if (changed) {
      this.deps.log[next.ready ? "info" : "warn"]({ plan: next }, next.ready ? `failover plan ready: a replacement would go to ${next.pool}` : `failover plan NOT ready: ${next.problem}`);
      this.deps.onChange?.(this.status());
    }
    return this.plan;
  }

  private async check(signal: AbortSignal): Promise<PlanStatus> {
    const { project, self } = this.options;
    const fixInfra = `synkti infra up --project-name ${project}`;
    const previous = this.plan.verifiedAt;
    let candidate: Candidate | undefined;
    try {
      const observed = await this.deps.observePools(signal);
      if (observed.stopping) return notReady("stopping", "the cluster is being stopped (synkti down): no replacement would be launched", null, previous, "none: synkti down is stopping this cluster");
      candidate = rankPools({ ...observed, doomed: self, instanceTypes: this.options.instanceTypes, onDemandFallback: false, failureMemoryMs: this.options.failureMemoryMs, now: this.deps.clock.now() })[0];
      if (!candidate) {
        return notReady(
          "no-pool",
          `no pool to launch a replacement in: no zone of the load balancer other than ${self.zone} offers ${this.options.instanceTypes.join(", ")} (or each failed in the last ${Math.round(this.options.failureMemoryMs / 60_000)} min)`,
          null,
          previous,
          `synkti infra up --project-name ${project} --instance-types ${[...this.options.instanceTypes, "<another GPU type>"].join(",")}   # then launch with the same list`,
        );
      }
    } catch (error) {
      return notReady(templateMissing(error) ? "no-template" : "unobservable", `the pools could not be observed: ${messageOf(error)}`, null, previous, templateMissing(error) ? fixInfra : `synkti logs ${self.instanceId} --project-name ${project}`);
    }
    const pool = poolKey(candidate);
    try {
      const answer = await this.deps.dryRun(launchRequest(project, self, candidate), signal);
      if (!answer.allowed) return notReady("denied", `a replacement in ${pool} would be refused (DryRun): ${answer.reason}`, pool, previous, fixInfra);
      return { ready: true, pool, verifiedAt: new Date(this.deps.clock.now()).toISOString(), code: null, problem: null, fix: null };
    } catch (error) {
      // The request could not even be built (group or instance profile gone) or AWS did not answer.
      if (templateMissing(error)) return notReady("no-template", `the replacement's request cannot be made: ${messageOf(error)}`, pool, previous, fixInfra);
      return notReady("unobservable", `the DryRun of a replacement in ${pool} did not answer: ${messageOf(error)}`, pool, previous, `synkti logs ${self.instanceId} --project-name ${project}`);
    }
  }
}

/** AWS's refusals carry kilobytes of encoded authorization message: /status and the tag need a line. */
const PROBLEM_MAX = 300;

function notReady(code: PlanProblem, problem: string, pool: string | null, verifiedAt: string | null, fix: string | null = null): PlanStatus {
  const short = problem.length > PROBLEM_MAX ? `${problem.slice(0, PROBLEM_MAX - 1)}…` : problem;
  return { ready: false, pool, verifiedAt, code, problem: short, fix };
}


/** The project's security group or instance profile is gone: the permanent resources need repair. */
function templateMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? "";
  return name === "NoSuchEntity" || /security group .* not found|instance profile/i.test(messageOf(error));
}
