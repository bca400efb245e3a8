import path from "node:path";
import { isSynktiError, messageOf, SynktiError } from "../../core/errors.js";

/**
 * Why a worker will not serve the weights it was launched with: each says what is wrong, naming
 * the manifest entry, file or chunk, and the command that repairs it. "unsafe" (exit 1: a restart
 * would meet the same bytes) except where AWS could not be reached ("unobservable", exit 3).
 */
export interface FetchWhere {
  project: string;
  model: string;
  bucket: string;
}

const uploadAgain = (w: FetchWhere) => `synkti upload model --project-name ${w.project} --model ${w.model} --from <weights-dir>`;

export function weightsRefused(code: string, message: string, where: FetchWhere, remedy = uploadAgain(where)): SynktiError {
  return new SynktiError(message, { code, kind: "unsafe", fault: "user", remedy });
}

export function weightsUnreachable(message: string, where: FetchWhere, cause: unknown, remedy = `synkti status --project-name ${where.project}   # then: synkti logs --project-name ${where.project}`): SynktiError {
  return new SynktiError(message, { code: "weights-unreachable", kind: "unobservable", fault: "aws", remedy, cause });
}

/** S3 said no (another owner, a policy without s3:GetObject): a retry would hear the same. */
export const checkInfra = (w: FetchWhere) => `synkti infra status --project-name ${w.project}   # the bucket's owner and the worker role's policy`;

/** A failed file system call (it carries an errno code such as ENOSPC and the syscall). */
export const isWriteError = (error: unknown) => typeof (error as { code?: unknown })?.code === "string" && /^E[A-Z]+$/.test((error as { code: string }).code) && (error as { syscall?: string }).syscall !== undefined;

/** The disk, not the weights: said as such, with the command that shows how full it is. */
export function diskError(error: unknown, file: string): unknown {
  if (isSynktiError(error) || (error as { name?: string })?.name === "AbortError") return error;
  const code = (error as { code?: string })?.code;
  const dir = path.dirname(file);
  const why = messageOf(error);
  const message =
    code === "ENOSPC" ? `No space left on the device of ${dir} for the weights (${(error as { syscall?: string }).syscall === "statfs" ? why : `while writing ${file}`})` : `Cannot write ${file}: ${why}`;
  return new SynktiError(message, { code: "weights-disk", kind: "unsafe", fault: "aws", remedy: `df -h ${dir}   # the models folder needs the manifest's total size`, cause: error });
}

/**
 * Anything not already said with a fix is a bug (exit 4): user-data restarts the agent, whose
 * fetch resumes; the record and the boot log carry the message for the report.
 */
export function asFetchError(error: unknown, input: { model: string; signal?: AbortSignal }, where: FetchWhere): unknown {
  if (input.signal?.aborted || isSynktiError(error)) return error;
  return new SynktiError(`Fetching the weights of ${input.model} failed: ${messageOf(error)}`, { code: "weights-fetch", kind: "internal", remedy: `synkti logs --project-name ${where.project} <instance-id>`, cause: error });
}
