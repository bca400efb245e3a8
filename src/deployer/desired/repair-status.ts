/**
 * What `synkti status` says of the desired size and of repair: the desired size, its empty slots,
 * and `repair: active | paused | inactive`. Paused is the workers' own rule (src/repair's
 * pauseState) over the outcome records they wrote (`checkpoints/repair/`), so the laptop and the
 * workers agree; a paused repair comes with the last failure's reason (the replacement's failure
 * record, `checkpoints/logs/<id>.json`) and the fix. Read only: status changes nothing.
 */
import type { ObjectReader } from "../../aws/s3-objects.js";
import type { Desired } from "../../cluster/desired.js";
import { oneLine } from "../../core/printable.js";
import type { ProjectNames } from "../../infra/names.js";
import { readRecentOutcomes } from "../../cluster/repair-outcomes.js";
import { pauseState, type RepairOutcome } from "../../repair/index.js";
import { INSTANCE_ID, parseFailureRecord, RECORD_MAX_BYTES } from "../logs/record.js";
import { messageOf } from "../../core/errors.js";

export interface RepairStatus {
  /** inactive: no desired.json (an older cluster; workers do not repair); paused: 3 failed replacements in a row. */
  state: "active" | "paused" | "inactive";
  /** Failed replacements in a row since the desired size was last set. */
  failuresInARow: number;
  /** When paused: the last failed replacement, why it failed, and what to do. */
  lastFailure: { instanceId: string; slot: number; at: string; reason: string } | null;
  fix: string | null;
  /** Why the outcome records could not be read (then `state` is judged without them); null when they were. */
  unavailable: string | null;
}

export async function repairStatus(
  deps: { objects: ObjectReader },
  names: ProjectNames,
  desired: Desired | null,
  context: { model: string | null; region?: string },
  signal?: AbortSignal,
): Promise<RepairStatus> {
  const inactive: RepairStatus = { state: "inactive", failuresInARow: 0, lastFailure: null, fix: null, unavailable: null };
  if (!desired) return inactive;
  let outcomes: RepairOutcome[];
  try {
    outcomes = await readRecentOutcomes(deps.objects, names, desired, {}, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    return { ...inactive, state: "active", unavailable: `could not read s3://${names.bucket}/${names.repairPrefix}: ${messageOf(error)}` };
  }
  const pause = pauseState(outcomes, desired);
  if (!pause.paused || !pause.lastFailure) return { state: "active", failuresInARow: pause.failuresInARow, lastFailure: null, fix: null, unavailable: null };
  const last = pause.lastFailure;
  // Written by a worker: an id that is not one never reaches a key or a printed command.
  const id = INSTANCE_ID.test(last.replacement) ? last.replacement : undefined;
  const reason = (id ? await failureReason(deps, names, id, signal) : undefined) ?? oneLine(last.reason, 300);
  const flags = `--project-name ${names.project}${context.region ? ` --region ${context.region}` : ""}`;
  return {
    state: "paused",
    failuresInARow: pause.failuresInARow,
    lastFailure: { instanceId: id ?? oneLine(last.replacement, 64), slot: last.slot, at: last.at, reason },
    // Setting the desired size again is a new generation: the pause counts only outcomes after it.
    fix: `synkti logs ${flags} ${id ?? "<instance id>"}   # fix the cause, then: synkti ${flags} --model ${context.model ?? "<model>"} --workers ${desired.workers} --yes`,
    unavailable: null,
  };
}

/** The failed replacement's own failure record, when it left one: its words are better than the claimant's. */
async function failureReason(deps: { objects: ObjectReader }, names: ProjectNames, instanceId: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const read = await deps.objects.read(names.bucket, names.failureRecordKey(instanceId), { maxBytes: RECORD_MAX_BYTES, from: "start" }, signal);
    const parsed = read ? parseFailureRecord(read, instanceId) : undefined;
    return parsed?.record ? oneLine(parsed.record.reason, 300) : undefined;
  } catch (error) {
    if (signal?.aborted) throw error;
    return undefined;
  }
}
