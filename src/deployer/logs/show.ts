import type { ObjectReader } from "../../aws/s3-objects.js";
import { SynktiError, usageError } from "../../core/errors.js";
import type { ProjectNames } from "../../infra/names.js";
import { INSTANCE_ID, LOG_MAX_BYTES, logText, parseFailureRecord, RECORD_MAX_BYTES, type FailureRecord } from "./record.js";

/**
 * `synkti logs <instance id>`: what a worker left in the bucket, its failure record (if it failed)
 * and the last 64 KiB of its boot and agent log (a running worker refreshes it on every state
 * change), read from S3 so it works after the instance is gone and from outside its network.
 */
export interface WorkerLogs {
  instanceId: string;
  failure: FailureRecord | null;
  /** Why a record that is there cannot be believed (not JSON, another instance's, too big); else null. */
  failureUnreadable: string | null;
  log: string | null;
  /** The stored log's whole size in bytes (more than was read when the worker kept more); null without a log. */
  logSize: number | null;
  /** Bytes read when the stored log was longer than that (only its tail is shown); else null. */
  logCut: number | null;
}

export function validateInstanceId(id: string, project: string): string {
  if (!INSTANCE_ID.test(id)) {
    throw usageError("invalid-instance-id", `'${id}' is not an EC2 instance id (i- and 8 or 17 hex digits, e.g. i-0123456789abcdef0).`, `synkti status --project-name ${project}   # lists the workers and recent failures, with their ids`);
  }
  return id;
}

export async function workerLogs(deps: { objects: ObjectReader }, names: ProjectNames, instanceId: string, signal?: AbortSignal): Promise<WorkerLogs> {
  const [record, log] = await Promise.all([
    deps.objects.read(names.bucket, names.failureRecordKey(instanceId), { maxBytes: RECORD_MAX_BYTES, from: "start" }, signal),
    deps.objects.read(names.bucket, names.bootLogKey(instanceId), { maxBytes: LOG_MAX_BYTES, from: "end" }, signal),
  ]);
  if (!record && !log) {
    throw new SynktiError(
      `Nothing was recorded for ${instanceId} in s3://${names.bucket}/${names.logsPrefix}: no failure record and no log. ` +
        "Either it is not one of this project's workers, it never got far enough to write one, or the record expired (checkpoints/ keeps 7 days).",
      { code: "no-logs", kind: "unsafe", fault: "user", remedy: `synkti status --project-name ${names.project}   # the workers and recent failures, with their ids` },
    );
  }
  const parsed = record ? parseFailureRecord(record, instanceId) : undefined;
  return {
    instanceId,
    failure: parsed?.record ?? null,
    failureUnreadable: parsed?.problem ?? null,
    log: log ? logText(log) : null,
    logSize: log ? log.totalSize : null,
    logCut: log && log.totalSize > log.bytes.length ? log.bytes.length : null,
  };
}
