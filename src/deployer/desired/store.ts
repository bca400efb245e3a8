/**
 * `cluster/desired.json`, the operator's intent (src/cluster/desired.ts), read and written by the
 * deployer only, always conditionally: created with If-None-Match: * when absent, replaced with
 * If-Match: <the ETag read> otherwise. Two deployers (two laptops, a laptop and CI) can then never
 * silently overwrite each other: the one that loses the race reads the document again and says
 * what it found instead of writing over it.
 */
import type { ConditionalObjects } from "../../aws/s3-conditional.js";
import type { ReplaceObjects } from "../../aws/s3-replace.js";
import { awsErrorName } from "../../aws/errors.js";
import type { Clock } from "../../core/clock.js";
import { SynktiError } from "../../core/errors.js";
import type { Logger } from "../../core/log.js";
import { DESIRED_MAX_BYTES, parseDesired, type Desired } from "../../cluster/desired.js";
import type { ProjectNames } from "../../infra/names.js";

/** What the bucket holds now; `etag` is what a replacement must match. */
export type DesiredRead =
  | { status: "set"; desired: Desired; etag: string }
  /** Present but not a valid document (hand-edited, truncated): replaced like a set one. */
  | { status: "invalid"; problem: string; etag: string }
  /** No such key (or no bucket yet: the write then says so). */
  | { status: "absent" };

/** S3's conditional calls the desired size needs: create if absent, read, replace if unchanged, delete. */
export type DesiredObjects = ConditionalObjects & ReplaceObjects;

export interface DesiredDeps {
  conditional: DesiredObjects;
  clock: Clock;
  log: Logger;
}

export async function readDesired(deps: Pick<DesiredDeps, "conditional">, names: ProjectNames, signal?: AbortSignal): Promise<DesiredRead> {
  const read = await deps.conditional.readIfChanged(names.bucket, names.desiredKey, { maxBytes: DESIRED_MAX_BYTES }, signal);
  if (read.kind !== "changed") return { status: "absent" }; // no ETag was given, so never "unchanged"
  const etag = read.etag ?? "*";
  const parsed = read.size > DESIRED_MAX_BYTES ? { problem: `larger than ${DESIRED_MAX_BYTES} bytes` } : parseDesired(read.text);
  return "desired" in parsed ? { status: "set", desired: parsed.desired, etag } : { status: "invalid", problem: parsed.problem, etag };
}

export interface DesiredWrite {
  desired: Desired;
  /** The ETag of what this write left, for a later restore. */
  previous: DesiredRead;
}

export interface WriteOptions {
  /**
   * On a lost race: "refuse" (a launch: its plan and question were about what it read, so it stops
   * and says what changed), or "overwrite" (down: 0 is wanted whatever another deployer just set;
   * read again and write over the fresh version, a few times).
   */
  onConflict: "refuse" | "overwrite";
  /** The command to run again after a refusal. */
  rerun: string;
  signal?: AbortSignal;
}

const OVERWRITE_ATTEMPTS = 3;

/**
 * Sets `workers`, with `setAt` now (a new generation: claims and the repair pause start afresh),
 * never at or before the previous setAt, so a clock behind the last writer's still moves forward.
 */
export async function writeDesired(deps: DesiredDeps, names: ProjectNames, workers: number, previous: DesiredRead, options: WriteOptions): Promise<DesiredWrite> {
  let seen = previous;
  for (let attempt = 1; ; attempt++) {
    const desired: Desired = { workers, setAt: nextSetAt(deps.clock.now(), seen) };
    const body = `${JSON.stringify(desired)}\n`;
    const outcome = await noBucketSaysSo(names, () =>
      seen.status === "absent"
        ? deps.conditional.putIfAbsent(names.bucket, names.desiredKey, body, options.signal)
        : deps.conditional.putIfMatch(names.bucket, names.desiredKey, body, seen.etag, options.signal),
    );
    if (outcome === "created" || outcome === "replaced") {
      deps.log.info({ desired }, `desired workers set to ${workers} (s3://${names.bucket}/${names.desiredKey})`);
      return { desired, previous };
    }
    const now = await readDesired(deps, names, options.signal);
    deps.log.warn({ found: describeRead(now) }, `s3://${names.bucket}/${names.desiredKey} changed while this command ran: ${describeRead(now)}`);
    if (options.onConflict === "refuse" || attempt >= OVERWRITE_ATTEMPTS) throw changedMeanwhile(names, now, options.rerun);
    seen = now;
  }
}

/**
 * Puts back what was there before `ours` (a launch undone: its intent goes with it, or the live
 * workers would repair towards a size nobody wants any more). Only if the document is still ours;
 * a deployer that wrote since wins. Best effort: the caller reports a failure, never throws it.
 */
export async function restoreDesired(deps: DesiredDeps, names: ProjectNames, write: DesiredWrite, signal?: AbortSignal): Promise<"restored" | "changed"> {
  const now = await readDesired(deps, names, signal);
  if (now.status !== "set" || now.desired.setAt !== write.desired.setAt) return "changed";
  const before = write.previous;
  if (before.status === "set") {
    return (await deps.conditional.putIfMatch(names.bucket, names.desiredKey, `${JSON.stringify(before.desired)}\n`, now.etag, signal)) === "replaced" ? "restored" : "changed";
  }
  // It was absent (or unreadable): absent again, so an old cluster stays one where repair is inactive.
  await deps.conditional.remove(names.bucket, names.desiredKey, signal);
  return "restored";
}

/** NoSuchBucket on the write: `synkti infra up` has not run (preflight says so too). */
async function noBucketSaysSo<T>(names: ProjectNames, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (awsErrorName(error) !== "NoSuchBucket") throw error;
    throw new SynktiError(`No bucket ${names.bucket}: the desired size (s3://${names.bucket}/${names.desiredKey}) has nowhere to go.`, {
      code: "no-bucket",
      kind: "unsafe",
      remedy: `synkti infra up --project-name ${names.project}`,
      cause: error,
    });
  }
}

function nextSetAt(now: number, seen: DesiredRead): string {
  const after = seen.status === "set" ? Date.parse(seen.desired.setAt) + 1 : -Infinity;
  return new Date(Math.max(now, after)).toISOString();
}

export function describeRead(read: DesiredRead): string {
  switch (read.status) {
    case "set":
      return `${read.desired.workers} worker${read.desired.workers === 1 ? "" : "s"}, set at ${read.desired.setAt}`;
    case "invalid":
      return `unreadable (${read.problem})`;
    case "absent":
      return "absent";
  }
}

function changedMeanwhile(names: ProjectNames, now: DesiredRead, rerun: string): SynktiError {
  return new SynktiError(
    `Another deployer changed s3://${names.bucket}/${names.desiredKey} while this command ran (it now says: ${describeRead(now)}); this command did not overwrite it and changed nothing else.`,
    { code: "desired-changed", kind: "unsafe", remedy: rerun },
  );
}
