import { SynktiError } from "../core/errors.js";

/**
 * Why a metadata request failed. Detection turns these into evidence; the worker agent turns them
 * into retries or a report. Each means something different on EC2:
 * - unreachable: connection refused or reset (nothing listens: not EC2, or IMDS turned off);
 * - timeout: no answer in time (a silent address off EC2, or a hop limit of 1 inside a container);
 * - refused: 403 (X-Forwarded-For through a proxy, or the endpoint disabled for this instance);
 * - unauthorized: 401 even with a fresh token;
 * - bad-answer: an answer that is not what IMDS sends (HTML instead of a token, broken JSON);
 * - http-error: any other status.
 */
export type ImdsFailure = "unreachable" | "timeout" | "refused" | "unauthorized" | "bad-answer" | "http-error";

export class ImdsError extends SynktiError {
  constructor(
    readonly failure: ImdsFailure,
    readonly path: string,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { code: `imds-${failure}`, kind: "unobservable", fault: "aws", cause: options.cause });
    this.name = "ImdsError";
    this.status = options.status;
  }

  readonly status: number | undefined;
}

export function isImdsError(error: unknown): error is ImdsError {
  return error instanceof ImdsError;
}
