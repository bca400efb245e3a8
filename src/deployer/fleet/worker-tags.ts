import { PLAN_PROBLEMS, TAG_ENDPOINT, TAG_MODEL, TAG_NOTICE, TAG_PLAN, TAG_REPLACES, TAG_SLOT, TAG_STATE, WORKER_STATES, type PlanProblem, type WorkerState } from "../../infra/names.js";
import { WORKER_ENDPOINT as ENDPOINT } from "../../cluster/endpoint.js";
import { INSTANCE_ID } from "../../cluster/instance-id.js";
import { oneLine } from "../../core/printable.js";
import { parseSlot } from "../../repair/slot.js";

/**
 * What a worker says of itself on its own instance's tags (DESIGN: each node is the authority on
 * its own state). A laptop outside the VPC cannot ask a worker, but it can always read these. A
 * worker's tags are written by the worker, so each value is checked, bounded and cleaned here:
 * a value that is not what the contract allows is shown as absent, never passed on raw.
 */
export interface WorkerTags {
  /** SynktiState; null when absent or not one of WORKER_STATES. */
  workerState: WorkerState | null;
  /** SynktiNotice (ISO): a spot notice's termination time, or when a rebalance recommendation was issued (see TAG_NOTICE); else null. */
  notice: string | null;
  /** SynktiModel. */
  model: string | null;
  /** SynktiSlot: which of the desired workers this one is. */
  slot: number | null;
  /** SynktiReplaces: the instance a replacement took over from. */
  replaces: string | null;
  /** SynktiEndpoint `<ipv4>:<port>`, where the worker answers (in the local cloud a loopback address). */
  endpoint: string | null;
  /** SynktiPlan: `ready` or the standing plan's problem code; null when absent (an older worker) or not one. */
  planTag: "ready" | PlanProblem | null;
}

export function readWorkerTags(tags: Record<string, string>): WorkerTags {
  const state = tags[TAG_STATE];
  const replaces = tags[TAG_REPLACES];
  const endpoint = tags[TAG_ENDPOINT];
  return {
    workerState: state !== undefined && (WORKER_STATES as readonly string[]).includes(state) ? (state as WorkerState) : null,
    notice: noticeTime(tags[TAG_NOTICE]),
    model: tags[TAG_MODEL] ? oneLine(tags[TAG_MODEL], 128) : null,
    // The workers' own parse: status shows the slot their census counts (none for `0x10`, `01`, ` 1`).
    slot: parseSlot(tags[TAG_SLOT]) ?? null,
    replaces: replaces !== undefined && INSTANCE_ID.test(replaces) ? replaces : null,
    endpoint: endpoint !== undefined && ENDPOINT.test(endpoint) ? endpoint : null,
    planTag: planTag(tags[TAG_PLAN]),
  };
}

/**
 * A notice tag whose time cannot be read is still a notice (the instance is going away): it reads
 * as "unknown", never as no notice.
 */
function noticeTime(value: string | undefined): string | null {
  if (value === undefined || value.trim() === "") return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? "unknown" : new Date(time).toISOString();
}

function planTag(value: string | undefined): "ready" | PlanProblem | null {
  if (value === "ready") return value;
  return (PLAN_PROBLEMS as readonly string[]).includes(value ?? "") ? (value as PlanProblem) : null;
}
