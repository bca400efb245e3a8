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
import { OUTCOME_MAX_BYTES, parseOutcome, pauseState, type RepairOutcome } from "../../repair/index.js";
import { INSTANCE_ID, parseFailureRecord, RECORD_MAX_BYTES } from "../logs/record.js";

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

/** Outcomes read per status, newest first: the rule needs the last few after setAt, never all of history. */
const OUTCOMES_READ = 20;
/** LastModified is S3's clock and setAt the deployer's: an outcome up to this much before setAt is still read (then judged by the rule). */
const CLOCK_SLACK_MS = 5 * 60_000;

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
    outcomes = await readOutcomes(deps, names, Date.parse(desired.setAt) - CLOCK_SLACK_MS, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    return { ...inactive, state: "active", unavailable: `could not read s3://${names.bucket}/${names.repairPrefix}: ${error instanceof Error ? error.message : String(error)}` };
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

async function readOutcomes(deps: { objects: ObjectReader }, names: ProjectNames, since: number, signal?: AbortSignal): Promise<RepairOutcome[]> {
  const listing = await deps.objects.list(names.bucket, names.repairPrefix, { maxKeys: 10_000 }, signal);
  if (listing === "no-bucket") return [];
  const recent = listing.objects
    .filter((o) => o.key.endsWith(".json") && (o.lastModified?.getTime() ?? 0) >= since)
    .sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0))
    .slice(0, OUTCOMES_READ);
  const read = await Promise.all(recent.map((o) => deps.objects.read(names.bucket, o.key, { maxBytes: OUTCOME_MAX_BYTES, from: "start" }, signal)));
  return read.flatMap((r) => {
    if (!r || r.totalSize > OUTCOME_MAX_BYTES) return [];
    const parsed = parseOutcome(Buffer.from(r.bytes).toString("utf8"));
    return "outcome" in parsed ? [parsed.outcome] : [];
  });
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
