import { z } from "zod";
import type { BoundedRead } from "../../aws/s3-objects.js";
import { clipReason, INSTANCE_ID, LOG_TAIL_BYTES, type FailureRecord } from "../../cluster/failure-record.js";
import { oneLine, printable } from "../../core/printable.js";

/**
 * The failure record a worker (or its user-data, when synkti never started) leaves at
 * `checkpoints/logs/<instance id>.json` before it terminates itself: `{"instanceId","at","exitCode","reason"}`.
 * It is written by a machine that may be broken or compromised, so it is read bounded, parsed
 * strictly, and cleaned of anything a terminal would interpret (its shape: src/cluster/failure-record.ts).
 */
export type { FailureRecord };
export { INSTANCE_ID };

/** A real record is a few hundred bytes; anything past this is not one. */
export const RECORD_MAX_BYTES = 16 * 1024;
/** What the worker keeps of its log (the contract: the last 64 KiB), and so all that is read. */
export const LOG_MAX_BYTES = LOG_TAIL_BYTES;

const RecordSchema = z.object({
  instanceId: z.string().regex(INSTANCE_ID, "instanceId is not an EC2 instance id"),
  at: z.string().max(64).refine((s) => !Number.isNaN(Date.parse(s)), "at is not a time"),
  // Writers give one (user-data: 1 when the agent never ran); an older or odd writer may not.
  exitCode: z.number().int().min(0).max(255).nullable().optional(),
  reason: z.string().min(1, "reason is empty"),
});

/** The record, or why it cannot be believed. */
export type ParsedRecord = { record: FailureRecord; problem: null } | { record: null; problem: string };

export function parseFailureRecord(read: BoundedRead, expectedInstanceId: string): ParsedRecord {
  if (read.totalSize > RECORD_MAX_BYTES) return bad(`it is ${read.totalSize} bytes, more than a record's ${RECORD_MAX_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(read.bytes).toString("utf8"));
  } catch {
    return bad("it is not JSON");
  }
  const parsed = RecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return bad(`${issue?.path.join(".") || "record"}: ${oneLine(issue?.message ?? "bad shape", 120)}`);
  }
  // The key says whose record this is; a record claiming another instance is not credited to this one.
  if (parsed.data.instanceId !== expectedInstanceId) return bad(`it names ${parsed.data.instanceId}, not ${expectedInstanceId}`);
  const reason = printable(parsed.data.reason).trim();
  return {
    problem: null,
    record: {
      instanceId: parsed.data.instanceId,
      at: new Date(parsed.data.at).toISOString(),
      exitCode: parsed.data.exitCode ?? null,
      reason: clipReason(reason),
    },
  };
}

const bad = (problem: string): ParsedRecord => ({ record: null, problem });

/** The log as text to print: the tail that was read, cleaned, starting at a whole line when cut. */
export function logText(read: BoundedRead): string {
  let text = Buffer.from(read.bytes).toString("utf8");
  if (read.totalSize > read.bytes.length) {
    // The cut fell mid-line (maybe mid-character): drop that partial first line.
    const newline = text.indexOf("\n");
    if (newline >= 0) text = text.slice(newline + 1);
  }
  return printable(text);
}
