import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { SynktiError } from "../../core/errors.js";
import { TAG_STATE, workerSelector } from "../../infra/names.js";
import { ACTIVE_STATES, isStopping } from "../../cluster/membership.js";
import { readWorkerTags } from "../fleet/worker-tags.js";
import type { FleetDeps } from "../fleet/terminate.js";
import { pollUntil } from "../../core/poll.js";

/**
 * `--wait`: after a committed launch, until every worker of the project says `serving` on its own
 * SynktiState tag (the worker is the authority on its state; the laptop only reads its tags, so
 * this works from outside the VPC). One DescribeInstances per round, through the shared poller.
 *
 * Waited for: the project's pending or running workers when the wait starts (existing ones too: a
 * re-run that launched nothing still waits for a fleet that is booting). Workers without the tag
 * (an older synkti) never publish it, so they are not waited for, and the progress says so.
 * A waited-for worker that will never serve fails the wait at once: one that says `failed`,
 * `draining` or `retiring` (those states only move forward: src/worker/state/worker-state.ts) or
 * that ended (terminated, reclaimed).
 * With a desired size, the wait also lasts until no more workers than it are live: a scale down's
 * surplus drains and terminates itself, and is not waited for as serving.
 * The instances are never touched here: a launch is committed before the wait begins.
 */
export interface WaitProgress {
  serving: number;
  total: number;
  /** Waited-for workers by their SynktiState (other than serving). */
  others: Record<string, number>;
  /** Workers without a SynktiState tag, not waited for. */
  untracked: number;
  /** Live workers beyond the desired size (a scale down: they drain and terminate themselves). */
  leaving: number;
  elapsedMs: number;
}

export interface WaitOptions {
  project: string;
  region: string;
  /** Instances to wait for even if the first listing misses them (this launch's: AWS lists new ones late). */
  include?: string[];
  /**
   * The desired size: also wait until no more workers than this are live (a scale down's surplus
   * gone). Absent (no desired.json): only serving is waited for.
   */
  desired?: number;
  /** Workers a scale down retires: never waited for as serving (they say `retiring`, on purpose). */
  leavingIds?: string[];
  deadlineMs: number;
  /** Default 5 s. */
  intervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: WaitProgress) => void;
}

export interface WaitResult {
  serving: string[];
  waitedMs: number;
}

const ENDED = new Set(["shutting-down", "terminated", "stopping", "stopped"]);
/** What a worker that says it will not serve is doing, for the message. */
const NEVER_SERVING: Record<string, string> = {
  failed: "failed while booting",
  draining: "is draining (a spot notice or a stop) and will not serve",
  retiring: "is retiring and will not serve",
};

export async function waitUntilServing(deps: FleetDeps, options: WaitOptions): Promise<WaitResult> {
  const { clock } = deps;
  const started = clock.now();
  const flags = `--project-name ${options.project} --region ${options.region}`;
  let watched: Set<string> | undefined;
  let last: WaitProgress | undefined;

  const step = await pollUntil(
    { clock, deadlineMs: options.deadlineMs, intervalMs: options.intervalMs ?? 5000, maxIntervalMs: options.intervalMs ?? 5000, ...(options.signal ? { signal: options.signal } : {}) },
    async () => {
      const seen = await deps.ec2.describe({ tags: workerSelector(options.project) }, options.signal);
      const byId = new Map<string, InstanceSummary>(seen.map((i) => [i.instanceId, i]));
      const leavingIds = new Set(options.leavingIds ?? []);
      watched ??= new Set([
        ...(options.include ?? []),
        ...seen.filter((i) => ACTIVE_STATES.includes(i.state) && !isStopping(i.tags) && i.tags[TAG_STATE] !== undefined && !leavingIds.has(i.instanceId)).map((i) => i.instanceId),
      ]);
      const live = seen.filter((i) => ACTIVE_STATES.includes(i.state) && !isStopping(i.tags)).length;
      const leaving = options.desired === undefined ? 0 : Math.max(0, live - options.desired);
      const untracked = seen.filter((i) => ACTIVE_STATES.includes(i.state) && i.tags[TAG_STATE] === undefined).length;
      const serving: string[] = [];
      const others: Record<string, number> = {};
      for (const id of watched) {
        const instance = byId.get(id);
        // Right after RunInstances a listing may miss an instance: it is still booting. The tag is the
        // worker's own word, read as status reads it: a value outside the contract is shown as "unknown".
        const state = instance?.tags[TAG_STATE] === undefined ? "booting" : (readWorkerTags(instance.tags).workerState ?? "unknown");
        if (instance && ENDED.has(instance.state)) throw workerGone(id, `ended (${instance.state}) before it was serving`, flags);
        if (NEVER_SERVING[state]) throw workerGone(id, `${NEVER_SERVING[state]} (${TAG_STATE}=${state})`, flags);
        if (state === "serving") serving.push(id);
        else others[state] = (others[state] ?? 0) + 1;
      }
      last = { serving: serving.length, total: watched.size, others, untracked, leaving, elapsedMs: clock.now() - started };
      options.onProgress?.(last);
      return serving.length === watched.size && leaving === 0 ? { done: true, value: serving } : { done: false, observed: last };
    },
  );
  if (step.done) return { serving: step.value, waitedMs: clock.now() - started };
  throw new SynktiError(
    `Gave up waiting after ${elapsed(options.deadlineMs)}: ${describeProgress(step.observed)}. The instances are kept (they may still become serving); see why with synkti logs ${flags} <instance-id>, or stop them with synkti down ${flags}.`,
    { code: "wait-timeout", kind: "unsafe", fault: "aws", remedy: `synkti status ${flags}` },
  );
}

function workerGone(instanceId: string, what: string, flags: string): SynktiError {
  return new SynktiError(`${instanceId} ${what}; stopped waiting. The other instances are kept.`, {
    code: "worker-failed",
    kind: "unsafe",
    fault: "aws",
    remedy: `synkti logs ${flags} ${instanceId}`,
  });
}

/** "1/3 serving, 2 booting (1m20s)". */
export function describeProgress(p: WaitProgress): string {
  const parts = [`${p.serving}/${p.total} serving`, ...Object.entries(p.others).map(([state, n]) => `${n} ${state}`)];
  if (p.untracked > 0) parts.push(`${p.untracked} without ${TAG_STATE} (older synkti, not waited for)`);
  if (p.leaving > 0) parts.push(`${p.leaving} surplus still draining (scale down)`);
  return `${parts.join(", ")} (${elapsed(p.elapsedMs)})`;
}

/** 80000 -> "1m20s", 5000 -> "5s", 3600000 -> "1h0m0s". */
export function elapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${m}m${s % 60}s`;
  return m > 0 ? `${m}m${s % 60}s` : `${s}s`;
}
