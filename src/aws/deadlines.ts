import { usageError } from "../core/errors.js";

/**
 * How long synkti waits on AWS. The SDK's own defaults wait forever on an endpoint that accepts a
 * connection and never answers (a captive proxy, a wrong AWS_ENDPOINT_URL, a black-holed VPN), so
 * every request gets three deadlines, all enforced by aborting the request:
 * - connect: the TCP (and TLS) connection is up, within half the answer deadline (at most 5 s), so
 *   an address that drops the connection is reported as such, not as a silence after connecting;
 * - answer: the response headers arrived, counted from the start of the attempt. Not applied to
 *   S3 transfers (an upload's part takes as long as the bytes take);
 * - idle: no byte moved either way on the socket (while sending a body, waiting, or reading a
 *   response body): the one deadline of a multi-GB transfer. It is four answer deadlines (60 s by
 *   default, the AWS CLI's read timeout) because the idle clock only sees bytes enter and leave the
 *   kernel: at the end of a part, the last few MiB of the socket's send buffer drain on a slow
 *   uplink without any sign of progress.
 * An attempt that ran into one is not retried (retry.ts), so one AWS call ends within `answerMs`
 * plus the back-off of any quick failures before it, as long as the endpoint says nothing.
 */
export interface AwsDeadlines {
  connectMs: number;
  answerMs: number;
  idleMs: number;
}

export const AWS_TIMEOUT_ENV = "SYNKTI_AWS_TIMEOUT_MS";
export const DEFAULT_AWS_TIMEOUT_MS = 15_000;
/** A TCP connect to AWS takes one round trip; 5 s allows for a lost SYN or two. */
const MAX_CONNECT_MS = 5_000;
const IDLE_FACTOR = 4;
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 600_000;

export function awsDeadlines(timeoutMs: number = DEFAULT_AWS_TIMEOUT_MS): AwsDeadlines {
  return { connectMs: Math.min(Math.ceil(timeoutMs / 2), MAX_CONNECT_MS), answerMs: timeoutMs, idleMs: IDLE_FACTOR * timeoutMs };
}

/** SYNKTI_AWS_TIMEOUT_MS, validated: a bad value is a usage error (exit 2) naming the valid ones. */
export function awsDeadlinesFromEnv(env: NodeJS.ProcessEnv = process.env): AwsDeadlines {
  const raw = env[AWS_TIMEOUT_ENV]?.trim();
  if (!raw) return awsDeadlines();
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < MIN_TIMEOUT_MS || value > MAX_TIMEOUT_MS) {
    throw usageError(
      "invalid-aws-timeout",
      `${AWS_TIMEOUT_ENV}='${raw}' is not valid: give a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS} (default ${DEFAULT_AWS_TIMEOUT_MS}).`,
      `export ${AWS_TIMEOUT_ENV}=${DEFAULT_AWS_TIMEOUT_MS}   # or unset ${AWS_TIMEOUT_ENV}`,
    );
  }
  return awsDeadlines(value);
}

export type NoAnswerPhase = "connect" | "answer" | "idle";

/**
 * An AWS endpoint that did not answer within a deadline. Its message names the endpoint and, once
 * the client's middleware adds it, the call ("ec2 DescribeInstances"), so even a report that prints
 * the raw message says where to look. errors.ts maps it to exit 3 with what to check.
 */
export class AwsNoAnswer extends Error {
  override readonly name = "AwsNoAnswer";
  /** "service Operation", e.g. "ec2 DescribeInstances", when known. */
  operation: string | undefined;

  constructor(
    readonly endpoint: string,
    readonly phase: NoAnswerPhase,
    readonly ms: number,
    options?: { cause?: unknown },
  ) {
    super("", options);
    this.message = this.describe();
  }

  /** Names the call; the message follows. */
  forOperation(operation: string): this {
    this.operation ??= operation;
    this.message = this.describe();
    return this;
  }

  private describe(): string {
    const call = this.operation ? ` (${this.operation})` : "";
    const within = seconds(this.ms);
    switch (this.phase) {
      case "connect":
        return `AWS did not accept a connection at ${this.endpoint}${call} within ${within}`;
      case "idle":
        return `AWS stopped answering at ${this.endpoint}${call}: nothing moved for ${within}`;
      case "answer":
        return `AWS did not answer at ${this.endpoint}${call} within ${within}`;
    }
  }
}

export function isAwsNoAnswer(error: unknown): error is AwsNoAnswer {
  return error instanceof AwsNoAnswer;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Where a failed call went and what it was, for the message: set by the HTTP handler and the client middleware. */
export interface CallFacts {
  endpoint?: string;
  operation?: string;
}

const FACTS = Symbol.for("synkti.awsCall");

/** Records facts about the failed call on the error (first writer wins). AwsNoAnswer keeps them in its message. */
export function annotateCall<E extends Error>(error: E, facts: CallFacts): E {
  if (error instanceof AwsNoAnswer) {
    if (facts.operation) error.forOperation(facts.operation);
    return error;
  }
  const known = (error as { [FACTS]?: CallFacts })[FACTS] ?? {};
  Object.defineProperty(error, FACTS, { value: { ...facts, ...known }, configurable: true, enumerable: false });
  return error;
}

export function callFacts(error: unknown): CallFacts {
  if (error instanceof AwsNoAnswer) return { endpoint: error.endpoint, ...(error.operation ? { operation: error.operation } : {}) };
  return (error as { [FACTS]?: CallFacts } | null)?.[FACTS] ?? {};
}
