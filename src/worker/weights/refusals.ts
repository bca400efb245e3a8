import { SynktiError } from "../../core/errors.js";

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

export const uploadAgain = (w: FetchWhere) => `synkti upload model --project-name ${w.project} --model ${w.model} --from <weights-dir>`;

export function weightsRefused(code: string, message: string, where: FetchWhere, remedy = uploadAgain(where)): SynktiError {
  return new SynktiError(message, { code, kind: "unsafe", fault: "user", remedy });
}

export function weightsUnreachable(message: string, where: FetchWhere, cause: unknown): SynktiError {
  return new SynktiError(message, { code: "weights-unreachable", kind: "unobservable", fault: "aws", remedy: `synkti status --project-name ${where.project}   # then: synkti logs --project-name ${where.project}`, cause });
}
