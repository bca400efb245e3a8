import type { WorkerState } from "../../infra/names.js";
import type { InterruptionEvent } from "../interruption/monitors.js";
import type { ModelServerState } from "../../cluster/status-document.js";

/**
 * What a worker says of itself in `SynktiState` (pure, table-tested). While it runs, the model
 * server decides: `serving` only while /health answers; any other moment before giving up
 * (loading, a restart's backoff, unhealthy) is `booting` again, because a load balancer or a laptop
 * reading the tag must not send it traffic then; giving up is `failed`.
 */
export function stateOfModelServer(state: ModelServerState): WorkerState {
  if (state === "healthy") return "serving";
  if (state === "failed") return "failed";
  return "booting";
}

/** booting and serving go back and forth; draining, retiring and failed only ever move forward. */
const RANK: Record<WorkerState, number> = { booting: 0, serving: 0, draining: 1, retiring: 2, failed: 3 };

/**
 * The state to publish when `proposed` arrives while `current` is published: a stopping worker does
 * not become `serving` again because its model server answered one last probe, and a failed one
 * stays failed while it lingers.
 */
export function nextState(current: WorkerState | undefined, proposed: WorkerState): WorkerState {
  if (current === undefined) return proposed;
  return RANK[proposed] >= RANK[current] ? proposed : current;
}

/**
 * `SynktiNotice`: the termination time of a spot notice; a rebalance recommendation names none, so
 * it publishes the time AWS issued it, and only while no spot notice is known (the notice is the
 * more precise, and the later, word). Undefined: nothing to publish.
 */
export function noticeValue(event: InterruptionEvent, published: { fromSpotNotice: boolean } | undefined): string | undefined {
  if (event.kind === "spot-interruption") return event.time;
  if (published?.fromSpotNotice) return undefined;
  return event.noticeTime;
}
