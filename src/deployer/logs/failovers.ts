import type { BoundedRead } from "../../aws/s3-objects.js";
import { oneLine } from "../../core/printable.js";
import type { ProjectNames } from "../../infra/names.js";
import { FAILOVER_RECORD_MAX_BYTES, FailoverRecordSchema, PHASE_NAMES, type PhaseName } from "../../cluster/failover-record.js";
import { recentRecords, type RecentDeps } from "./recent.js";

export { FAILOVER_RECORD_MAX_BYTES, PHASE_NAMES, type PhaseName };

/**
 * The recent failovers `synkti status` shows: the timelines doomed workers wrote to
 * `checkpoints/failovers/<doomed id>.json` as they went (src/worker/failover/timeline-record.ts),
 * so they outlive the instance AWS reclaimed. Written by a machine that may be broken, so, like the
 * failure records, each is read bounded, parsed strictly (src/cluster/failover-record.ts) and its
 * text cleaned before it is shown.
 */
export interface FailoverPhase {
  state: string;
  startedAt: string | null;
  endedAt: string | null;
  detail: string | null;
}

export interface FailoverSummary {
  doomed: string;
  replacement: string | null;
  /** spot-interruption, rebalance-recommendation, rebalance-then-notice. */
  trigger: string | null;
  /** running, retired (done) or abandoned; "unreadable" when the record could not be believed. */
  status: string;
  deadlineAt: string | null;
  phases: Record<PhaseName, FailoverPhase> | null;
  /** From the first phase's start to the last one's end, once every phase ended; else null. */
  totalSeconds: number | null;
  /** When the record was last written (S3's LastModified). */
  updatedAt: string;
  /** Why the record cannot be believed; null when it parsed. */
  problem: string | null;
}

export interface RecentFailovers {
  failovers: FailoverSummary[];
  unavailable: string | null;
}

export async function recentFailovers(deps: RecentDeps, names: ProjectNames, signal?: AbortSignal): Promise<RecentFailovers> {
  const { records, unavailable } = await recentRecords(
    deps,
    names,
    { prefix: names.failoversPrefix, keyOf: names.failoverKey, what: "failover timelines" },
    async (o, signal) => {
      const read = await deps.objects.read(names.bucket, o.key, { maxBytes: FAILOVER_RECORD_MAX_BYTES, from: "start" }, signal);
      return read ? parseFailoverRecord(read, o.instanceId, o.lastModified) : unreadable(o.instanceId, o.lastModified, "it was deleted while being read");
    },
    signal,
  );
  return { failovers: records, unavailable };
}

export function parseFailoverRecord(read: BoundedRead, expectedDoomed: string, lastModified: Date): FailoverSummary {
  if (read.totalSize > FAILOVER_RECORD_MAX_BYTES) return unreadable(expectedDoomed, lastModified, `it is ${read.totalSize} bytes, more than a timeline's ${FAILOVER_RECORD_MAX_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(read.bytes).toString("utf8"));
  } catch {
    return unreadable(expectedDoomed, lastModified, "it is not JSON");
  }
  const parsed = FailoverRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return unreadable(expectedDoomed, lastModified, `${issue?.path.join(".") || "record"}: ${oneLine(issue?.message ?? "bad shape", 120)}`);
  }
  const r = parsed.data;
  // The key names whose failover it is; a record claiming another instance is not credited to it.
  if (r.doomed !== expectedDoomed) return unreadable(expectedDoomed, lastModified, `it names ${r.doomed}, not ${expectedDoomed}`);
  const iso = (s: string | null) => (s === null ? null : new Date(s).toISOString());
  const phases = Object.fromEntries(
    PHASE_NAMES.map((p) => [p, { state: oneLine(r.phases[p].state, 32), startedAt: iso(r.phases[p].startedAt), endedAt: iso(r.phases[p].endedAt), detail: r.phases[p].detail === null ? null : oneLine(r.phases[p].detail, 300) }]),
  ) as Record<PhaseName, FailoverPhase>;
  return {
    doomed: r.doomed,
    replacement: r.replacement,
    trigger: r.trigger === null ? null : oneLine(r.trigger, 64),
    status: oneLine(r.status, 32),
    deadlineAt: iso(r.deadlineAt),
    phases,
    totalSeconds: totalSeconds(phases),
    updatedAt: lastModified.toISOString(),
    problem: null,
  };
}

/** First start to last end, when every phase that started has ended (a pending one never ran). */
function totalSeconds(phases: Record<PhaseName, FailoverPhase>): number | null {
  const ran = PHASE_NAMES.map((p) => phases[p]).filter((p) => p.startedAt !== null);
  if (ran.length === 0 || ran.some((p) => p.endedAt === null)) return null;
  const start = Math.min(...ran.map((p) => Date.parse(p.startedAt!)));
  const end = Math.max(...ran.map((p) => Date.parse(p.endedAt!)));
  return Math.max(0, Math.round((end - start) / 100) / 10);
}

const unreadable = (doomed: string, lastModified: Date, problem: string): FailoverSummary => ({
  doomed,
  replacement: null,
  trigger: null,
  status: "unreadable",
  deadlineAt: null,
  phases: null,
  totalSeconds: null,
  updatedAt: lastModified.toISOString(),
  problem: `unreadable failover timeline: ${problem}`,
});
