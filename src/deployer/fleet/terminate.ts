import type { Ec2Instances, InstanceState, InstanceSummary } from "../../aws/ec2-instances.js";
import { classifyAwsError } from "../../aws/errors.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { isStopping } from "../../cluster/membership.js";
import { TAG_STOPPING } from "./tags.js";
import { pollUntil } from "../../core/poll.js";
import { messageOf } from "../../core/errors.js";

export interface FleetDeps {
  ec2: Ec2Instances;
  clock: Clock;
  log: Logger;
}

export interface TerminateOptions {
  /** Every instance whose tags match is ended (a launch's own tag, or the whole project's). */
  selector: Record<string, string>;
  /** Ids known to belong though DescribeInstances may not list them yet (eventual consistency). */
  knownIds?: Iterable<string>;
  /** Put the stop marker on each instance before terminating it (`synkti down`). */
  markStopping?: boolean;
  /**
   * Keep looking this long even when nothing is visible: a RunInstances whose answer was lost may
   * have launched an instance that DescribeInstances does not list yet.
   */
  graceMs?: number;
  deadlineMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

export interface TerminateReport {
  /** Everything the selector matched was seen terminated (and the grace period passed). */
  complete: boolean;
  /** Instances this call saw alive and then saw terminated. */
  terminated: string[];
  /** Still not terminated at the deadline. */
  remaining: Array<{ instanceId: string; state: InstanceState | "unknown" }>;
  lastError?: string;
}

/**
 * Terminates what the selector matches and waits until AWS reports it terminated, looking again
 * every round so an instance that appears meanwhile (a lost RunInstances answer, a replacement
 * launched by a worker) is ended too. A cleanup must not give up on a hiccup: AWS errors other than
 * "access denied" are logged and retried until the deadline, then reported with the ids left.
 */
export async function terminateAndWait(deps: FleetDeps, options: TerminateOptions): Promise<TerminateReport> {
  const { ec2, clock, log } = deps;
  const known = new Set(options.knownIds ?? []);
  const touched = new Set<string>(known);
  const graceUntil = clock.now() + (options.graceMs ?? 0);
  let states = new Map<string, InstanceState | "unknown">();
  let lastError: string | undefined;

  const observe = async () => {
    const seen = await ec2.describe({ tags: options.selector }, options.signal);
    const next = new Map<string, InstanceState | "unknown">(seen.map((i) => [i.instanceId, i.state]));
    for (const id of known) if (!next.has(id)) next.set(id, "unknown");
    for (const [id, state] of next) if (state !== "terminated") touched.add(id);
    return { seen, next };
  };

  const round = async (): Promise<boolean> => {
    const { seen, next } = await observe();
    const targets = [...next].filter(([, s]) => s !== "terminated" && s !== "shutting-down").map(([id]) => id);
    if (targets.length > 0) {
      if (options.markStopping) await markStopping(deps, seen, targets, options.signal);
      const outcomes = await ec2.terminate(targets, options.signal);
      log.info({ instances: outcomes.map((o) => `${o.instanceId}:${o.state}`) }, "terminating");
      states = (await observe()).next;
    } else {
      states = next;
    }
    const alive = [...states.values()].some((s) => s !== "terminated");
    return !alive && clock.now() >= graceUntil;
  };

  const outcome = await pollUntil({ clock, deadlineMs: options.deadlineMs, intervalMs: options.intervalMs ?? 2000, ...(options.signal ? { signal: options.signal } : {}) }, async () => {
    try {
      return (await round()) ? { done: true, value: true } : { done: false, observed: undefined };
    } catch (error) {
      if (options.signal?.aborted || classifyAwsError(error) === "auth") throw error;
      lastError = messageOf(error);
      log.warn({ err: lastError }, "terminate: AWS call failed; retrying");
      return { done: false, observed: undefined };
    }
  });

  const complete = outcome.done;
  const remaining = [...touched].filter((id) => states.get(id) !== "terminated").map((instanceId) => ({ instanceId, state: states.get(instanceId) ?? "unknown" }));
  const terminated = [...touched].filter((id) => states.get(id) === "terminated").sort();
  return { complete, terminated, remaining, ...(!complete && lastError ? { lastError } : {}) };
}

/**
 * The stop marker goes on before TerminateInstances, so no worker replaces what down ends. It is a
 * courtesy to the workers, never a precondition: a refused or throttled CreateTags (a policy without
 * ec2:CreateTags, a tag quota, an API storm) is logged and the termination goes ahead, since
 * leaving billed GPUs running is worse than a replacement that down's next round ends anyway (and
 * desired 0, written first, already tells every worker not to repair).
 */
async function markStopping(deps: FleetDeps, seen: InstanceSummary[], targets: string[], signal?: AbortSignal): Promise<void> {
  const unmarked = targets.filter((id) => !isStopping(seen.find((i) => i.instanceId === id)?.tags ?? {}));
  const visible = unmarked.filter((id) => seen.some((i) => i.instanceId === id));
  if (visible.length === 0) return;
  try {
    await deps.ec2.tag(visible, { [TAG_STOPPING]: "true" }, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    deps.log.warn({ err: messageOf(error), instances: visible }, `could not mark ${visible.join(", ")} stopping (${TAG_STOPPING}); terminating them anyway`);
  }
}
