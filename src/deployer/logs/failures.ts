import type { ProjectNames } from "../../infra/names.js";
import { parseFailureRecord, RECORD_MAX_BYTES, type FailureRecord } from "./record.js";
import { RECENT_RECORDS, recentRecords, type RecentDeps } from "./recent.js";

/**
 * The recent failures `synkti status` summarises: failure records under `checkpoints/logs/` written
 * in the last 24 h, newest first, at most 5 (recent.ts picks them by the listing alone).
 */
export interface RecentFailures {
  failures: FailureRecord[];
  /** Why the failures could not be listed; null when they were. */
  unavailable: string | null;
}

export type FailureDeps = RecentDeps;
export const RECENT_FAILURES = RECENT_RECORDS;

export async function recentFailures(deps: FailureDeps, names: ProjectNames, signal?: AbortSignal): Promise<RecentFailures> {
  const { records, unavailable } = await recentRecords(
    deps,
    names,
    { prefix: names.logsPrefix, keyOf: names.failureRecordKey, what: "failure records" },
    async (o, signal): Promise<FailureRecord> => {
      const read = await deps.objects.read(names.bucket, o.key, { maxBytes: RECORD_MAX_BYTES, from: "start" }, signal);
      // Listed a moment ago and gone now (the 7-day expiry): still a failure that happened.
      const parsed = read ? parseFailureRecord(read, o.instanceId) : { record: null, problem: "it was deleted while being read" };
      return parsed.record ?? { instanceId: o.instanceId, at: o.lastModified.toISOString(), exitCode: null, reason: `unreadable failure record: ${parsed.problem}` };
    },
    signal,
  );
  return { failures: records, unavailable };
}
