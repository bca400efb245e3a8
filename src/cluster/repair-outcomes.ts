/**
 * The newest repair outcome records (`checkpoints/repair/<slot>-<cause>.json`), read the same way
 * by every worker's pause rule (src/worker/repair) and by `synkti status` (src/deployer/desired),
 * so the pause the laptop shows is the one the workers act on. S3 lists keys in name order, not by
 * age: a cap on the listing that is too low would keep the newest records of a long-lived cluster
 * out of a reader's view, so both list the same many and take the same newest.
 */
import type { ObjectReader } from "../aws/s3-objects.js";
import type { Desired } from "./desired.js";
import type { ProjectNames } from "../infra/names.js";
import { OUTCOME_MAX_BYTES, parseOutcome, type RepairOutcome } from "../repair/pause.js";

/** Records read per refresh at most: the pause rule needs the last few after setAt, never all of history. */
export const OUTCOMES_READ = 20;
/** Keys listed at most (about ten ListObjectsV2 pages): a record per repair, for years of repairs. */
export const OUTCOMES_LISTED = 10_000;
/**
 * LastModified is S3's clock and setAt the deployer's: a record up to this much older than setAt
 * is still read (the pause rule then judges it by its own `at`).
 */
export const OUTCOME_CLOCK_SLACK_MS = 5 * 60_000;

/**
 * The newest OUTCOMES_READ records modified since `desired.setAt` (less the slack), parsed;
 * unreadable ones are left out. `known`: records already read (they never change once written),
 * filled as records are read.
 */
export async function readRecentOutcomes(
  reader: Pick<ObjectReader, "list" | "read">,
  names: Pick<ProjectNames, "bucket" | "repairPrefix">,
  desired: Desired,
  options: { known?: Map<string, RepairOutcome | null> } = {},
  signal?: AbortSignal,
): Promise<RepairOutcome[]> {
  const listed = await reader.list(names.bucket, names.repairPrefix, { maxKeys: OUTCOMES_LISTED }, signal);
  if (listed === "no-bucket") return [];
  const since = Date.parse(desired.setAt) - OUTCOME_CLOCK_SLACK_MS;
  const newest = listed.objects
    .filter((o) => o.key.endsWith(".json") && (o.lastModified?.getTime() ?? 0) >= since)
    .sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0))
    .slice(0, OUTCOMES_READ);
  const read = await Promise.all(newest.map((o) => readOne(reader, names.bucket, o.key, options.known, signal)));
  return read.filter((o): o is RepairOutcome => o !== null);
}

async function readOne(reader: Pick<ObjectReader, "read">, bucket: string, key: string, known: Map<string, RepairOutcome | null> | undefined, signal?: AbortSignal): Promise<RepairOutcome | null> {
  const remembered = known?.get(key);
  if (remembered !== undefined) return remembered;
  const read = await reader.read(bucket, key, { maxBytes: OUTCOME_MAX_BYTES, from: "start" }, signal);
  const parsed = read && read.totalSize <= OUTCOME_MAX_BYTES ? parseOutcome(Buffer.from(read.bytes).toString("utf8")) : undefined;
  const outcome = parsed && "outcome" in parsed ? parsed.outcome : null;
  if (read) known?.set(key, outcome); // absent (listed, then gone): asked again next time
  return outcome;
}
