import type { ObjectReader } from "../../aws/s3-objects.js";
import { toSynktiError } from "../../aws/errors.js";
import type { Clock } from "../../core/clock.js";
import type { ProjectNames } from "../../infra/names.js";
import { INSTANCE_ID, parseFailureRecord, RECORD_MAX_BYTES, type FailureRecord } from "./record.js";

/**
 * The recent failures `synkti status` summarises: failure records under `checkpoints/logs/` written
 * in the last 24 h, newest first, at most 5. The listing's LastModified picks them before anything
 * is fetched (a bucket full of old records costs one listing, not a read each), and the few picked
 * are read at once. Status must still show the workers when this cannot be known (no bucket, no
 * permission, S3 down): then `unavailable` says why, and the failures are an empty list.
 */
export interface RecentFailures {
  failures: FailureRecord[];
  /** Why the failures could not be listed; null when they were. */
  unavailable: string | null;
}

export interface FailureDeps {
  objects: ObjectReader;
  clock: Clock;
}

export const RECENT_FAILURES = { limit: 5, windowMs: 24 * 3600_000, maxKeys: 10_000 } as const;

export async function recentFailures(deps: FailureDeps, names: ProjectNames, signal?: AbortSignal): Promise<RecentFailures> {
  const where = `s3://${names.bucket}/${names.logsPrefix}`;
  try {
    const listing = await deps.objects.list(names.bucket, names.logsPrefix, { maxKeys: RECENT_FAILURES.maxKeys }, signal);
    if (listing === "no-bucket") return { failures: [], unavailable: `bucket ${names.bucket} does not exist (synkti infra up --project-name ${names.project})` };
    const since = deps.clock.now() - RECENT_FAILURES.windowMs;
    const recent = listing.objects
      .map((o) => ({ ...o, instanceId: instanceIdOf(o.key, names) }))
      .filter((o): o is typeof o & { instanceId: string; lastModified: Date } => o.instanceId !== undefined && o.lastModified !== undefined && o.lastModified.getTime() >= since)
      .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime())
      .slice(0, RECENT_FAILURES.limit);
    const failures = await Promise.all(
      recent.map(async (o): Promise<FailureRecord> => {
        const read = await deps.objects.read(names.bucket, o.key, { maxBytes: RECORD_MAX_BYTES, from: "start" }, signal);
        // Listed a moment ago and gone now (the 7-day expiry): still a failure that happened.
        const parsed = read ? parseFailureRecord(read, o.instanceId) : { record: null, problem: "it was deleted while being read" };
        return parsed.record ?? { instanceId: o.instanceId, at: o.lastModified.toISOString(), exitCode: null, reason: `unreadable failure record: ${parsed.problem}` };
      }),
    );
    const truncated = listing.truncated ? `; only the first ${listing.objects.length} objects of ${where} were looked at` : "";
    return { failures, unavailable: truncated ? `incomplete${truncated}` : null };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { failures: [], unavailable: toSynktiError(error, `listing failure records in ${where}`).message };
  }
}

/** `checkpoints/logs/<instance id>.json` -> the id; any other key (a log, a stray object) -> undefined. */
function instanceIdOf(key: string, names: ProjectNames): string | undefined {
  if (!key.startsWith(names.logsPrefix) || !key.endsWith(".json")) return undefined;
  const id = key.slice(names.logsPrefix.length, -".json".length);
  return INSTANCE_ID.test(id) && names.failureRecordKey(id) === key ? id : undefined;
}
