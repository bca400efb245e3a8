import { isSynktiError, type ErrorKind } from "./errors.js";

/** The contract's exit codes (shared/INTERFACE.md), the same for every command. */
export const EXIT = {
  ok: 0,
  unsafe: 1,
  usage: 2,
  unobservable: 3,
  internal: 4,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_KIND: Record<ErrorKind, ExitCode> = {
  usage: EXIT.usage,
  unsafe: EXIT.unsafe,
  unobservable: EXIT.unobservable,
  interrupted: EXIT.interrupted,
  internal: EXIT.internal,
};

/** The one place that turns a thrown error into an exit code. */
export function exitCodeFor(error: unknown): ExitCode {
  return isSynktiError(error) ? BY_KIND[error.kind] : EXIT.internal;
}
