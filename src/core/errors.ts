/**
 * One error family for everything a user can meet. The CLI prints `message` and `remedy`
 * (the exact command to run) and maps `kind` to the contract's exit code; stacks only with --debug.
 */
export type ErrorKind =
  | "usage" // bad flag, bad value, invalid name: exit 2
  | "unsafe" // a precondition is missing: exit 1
  | "unobservable" // AWS / IMDS unreachable, credentials rejected: exit 3
  | "interrupted" // Ctrl-C after cleanup: exit 130
  | "internal"; // a bug in synkti: exit 4

/** Who is at fault, so the message can say whether to fix input, the account, or report a bug. */
export type Fault = "user" | "aws" | "tool";

export interface SynktiErrorOptions {
  code: string;
  kind: ErrorKind;
  fault?: Fault;
  remedy?: string;
  cause?: unknown;
  /** The result already printed says everything (e.g. an UNSAFE report): only set the exit code. */
  silent?: boolean;
}

export class SynktiError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly fault: Fault;
  readonly remedy: string | undefined;
  readonly silent: boolean;

  constructor(message: string, options: SynktiErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "SynktiError";
    this.code = options.code;
    this.kind = options.kind;
    this.fault = options.fault ?? (options.kind === "internal" ? "tool" : "user");
    this.remedy = options.remedy;
    this.silent = options.silent ?? false;
  }
}

export function usageError(code: string, message: string, remedy?: string): SynktiError {
  return new SynktiError(message, { code, kind: "usage", fault: "user", remedy });
}

export function isSynktiError(error: unknown): error is SynktiError {
  return error instanceof SynktiError;
}

/** What went wrong, in one line, whatever was thrown (an Error's message, else the value as text). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
