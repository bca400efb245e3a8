import type { ObjectListing, ObjectReader } from "../../aws/s3-objects.js";
import { toSynktiError } from "../../aws/errors.js";
import type { Clock } from "../../core/clock.js";
import type { ProjectNames } from "../../infra/names.js";
import { INSTANCE_ID } from "./record.js";

/**
 * The few newest per-instance records workers left under a prefix (`checkpoints/logs/<id>.json`,
 * `checkpoints/failovers/<id>.json`): written in the last 24 h, newest first, at most 5. The
 * listing's LastModified picks them before anything is fetched (a bucket full of old records costs
 * one listing, not a read each), and the few picked are read at once. `synkti status` must still
 * show the workers when this cannot be known (no bucket, no permission, S3 down): then
 * `unavailable` says why, and the list is empty.
 */
export const RECENT_RECORDS = { limit: 5, windowMs: 24 * 3600_000, maxKeys: 10_000 } as const;

export interface RecentDeps {
  objects: ObjectReader;
  clock: Clock;
}

export interface RecentRecords<T> {
  records: T[];
  /** Why the records could not be listed (or only partly); null when they were. */
  unavailable: string | null;
}

export type Picked = ObjectListing & { instanceId: string; lastModified: Date };

export async function recentRecords<T>(
  deps: RecentDeps,
  names: ProjectNames,
  where: { prefix: string; keyOf(instanceId: string): string; what: string },
  read: (object: Picked, signal?: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<RecentRecords<T>> {
  const url = `s3://${names.bucket}/${where.prefix}`;
  try {
    const listing = await deps.objects.list(names.bucket, where.prefix, { maxKeys: RECENT_RECORDS.maxKeys }, signal);
    if (listing === "no-bucket") return { records: [], unavailable: `bucket ${names.bucket} does not exist (synkti infra up --project-name ${names.project})` };
    const since = deps.clock.now() - RECENT_RECORDS.windowMs;
    const recent = listing.objects
      .map((o) => ({ ...o, instanceId: instanceIdOf(o.key, where) }))
      .filter((o): o is Picked => o.instanceId !== undefined && o.lastModified !== undefined && o.lastModified.getTime() >= since)
      .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime())
      .slice(0, RECENT_RECORDS.limit);
    const records = await Promise.all(recent.map((o) => read(o, signal)));
    const truncated = listing.truncated ? `incomplete; only the first ${listing.objects.length} objects of ${url} were looked at` : null;
    return { records, unavailable: truncated };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { records: [], unavailable: toSynktiError(error, `listing ${where.what} in ${url}`).message };
  }
}

/** `<prefix><instance id>.json` -> the id; any other key (a log, a stray object) -> undefined. */
function instanceIdOf(key: string, where: { prefix: string; keyOf(instanceId: string): string }): string | undefined {
  if (!key.startsWith(where.prefix) || !key.endsWith(".json")) return undefined;
  const id = key.slice(where.prefix.length, -".json".length);
  return INSTANCE_ID.test(id) && where.keyOf(id) === key ? id : undefined;
}
