import type { ObjectReader } from "../../aws/s3-objects.js";
import { FAILOVER_RECORD_MAX_BYTES, FailoverRecordSchema } from "../../cluster/failover-record.js";
import type { ImdsClient } from "../../context/imds-client.js";
import { TAGS_PATH } from "../../context/observe.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { TAG_REPLACES, type ProjectNames } from "../../infra/names.js";
import type { TraceStore } from "../trace/trace-store.js";
import { messageOf } from "../../core/errors.js";

/** HEALTH states that have not ended: the doomed worker stopped watching (handed-over) or never got to. */
const OPEN_HEALTH = new Set(["handed-over", "running", "pending"]);

export type HealthRewrite = { kind: "rewrite"; record: Record<string, unknown> } | { kind: "skip"; reason: string };

/**
 * The pure decision: the doomed worker's stored timeline (parsed JSON), rewritten with HEALTH `done`
 * by this replacement, or why not. Only an open HEALTH is closed: an ended one (done, failed,
 * skipped) is the doomed worker's own word and is never overwritten. A record that names another
 * replacement is about that instance's health, not this one's. Every other field is kept as written.
 */
export function healthByReplacement(json: unknown, expect: { doomed: string; self: string; now: Date }): HealthRewrite {
  const parsed = FailoverRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: "skip", reason: `unreadable: ${issue?.path.join(".") || "record"}: ${issue?.message ?? "bad shape"}` };
  }
  const r = parsed.data;
  if (r.doomed !== expect.doomed) return { kind: "skip", reason: `it names ${r.doomed}, not ${expect.doomed}` };
  if (r.replacement !== null && r.replacement !== expect.self) return { kind: "skip", reason: `its replacement is ${r.replacement}, not this instance` };
  const health = r.phases.health;
  if (!OPEN_HEALTH.has(health.state)) return { kind: "skip", reason: `HEALTH already ended (${health.state})` };
  const raw = json as Record<string, unknown> & { phases: Record<string, unknown> };
  return {
    kind: "rewrite",
    record: {
      ...raw,
      replacement: r.replacement ?? expect.self,
      phases: {
        ...raw.phases,
        health: { ...(raw.phases.health as object), state: "done", endedAt: expect.now.toISOString(), detail: `recorded by the replacement ${expect.self}` },
      },
    },
  };
}

export interface ReplacementHealthDeps {
  imds: Pick<ImdsClient, "get">;
  reader: Pick<ObjectReader, "read">;
  /** Writes through the S3 client, which adds ExpectedBucketOwner. */
  store: TraceStore;
  clock: Clock;
  log: Logger;
  names: ProjectNames;
  /** This instance's id. */
  self: string;
  /** Whether this worker serves now (SynktiState serving, and in the target group when there is one). */
  serving(): boolean;
}

export type ReplacementHealthOutcome = "not-a-replacement" | "no-record" | "skipped" | "recorded" | "failed" | "stopped";

/**
 * On a replacement (its own `SynktiReplaces=<doomed id>` tag, through instance metadata): once it
 * serves, closes the doomed worker's HEALTH in `checkpoints/failovers/<doomed id>.json`. A GPU
 * replacement serves minutes after the notice, when the doomed worker is long gone and left HEALTH
 * `handed-over`; without this, `synkti status` would never see the failover end. Once per boot;
 * every failure is logged, never thrown (the agent serves regardless).
 */
export async function recordHealthAsReplacement(deps: ReplacementHealthDeps, options: { pollMs: number }, signal: AbortSignal): Promise<ReplacementHealthOutcome> {
  const { log } = deps;
  try {
    const doomed = (await deps.imds.get(`${TAGS_PATH}/${TAG_REPLACES}`, { signal }))?.trim();
    if (!doomed) return "not-a-replacement";
    while (!deps.serving()) await deps.clock.sleep(options.pollMs, signal);
    const key = deps.names.failoverKey(doomed);
    const read = await deps.reader.read(deps.names.bucket, key, { maxBytes: FAILOVER_RECORD_MAX_BYTES, from: "start" }, signal);
    if (!read) {
      log.debug({ key }, "no failover timeline of the replaced instance: nothing to record");
      return "no-record";
    }
    if (read.totalSize > FAILOVER_RECORD_MAX_BYTES) {
      log.warn({ key, bytes: read.totalSize }, "the replaced instance's failover timeline is too large to be one: left as it is");
      return "skipped";
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(read.bytes).toString("utf8"));
    } catch {
      log.warn({ key }, "the replaced instance's failover timeline is not JSON: left as it is");
      return "skipped";
    }
    const decision = healthByReplacement(json, { doomed, self: deps.self, now: new Date(deps.clock.now()) });
    if (decision.kind === "skip") {
      log.info({ key, reason: decision.reason }, "the replaced instance's failover timeline is left as it is");
      return "skipped";
    }
    await deps.store.put(key, `${JSON.stringify(decision.record, null, 2)}\n`, "application/json", signal);
    log.info({ key, doomed }, "serving: recorded the failover's HEALTH as done in the replaced instance's timeline");
    return "recorded";
  } catch (error) {
    if (signal.aborted) return "stopped";
    log.warn({ error: messageOf(error) }, "could not record the failover's HEALTH as this replacement; synkti status keeps showing it open");
    return "failed";
  }
}
