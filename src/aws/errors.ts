import { isSynktiError, SynktiError, messageOf } from "../core/errors.js";
import { CredentialsUnavailable } from "./credentials.js";
import { AWS_TIMEOUT_ENV, callFacts, isAwsNoAnswer } from "./deadlines.js";

/** What kind of AWS failure this is, so callers decide (retry, move AZ, report) without string checks. */
export type AwsErrorClass = "no-credentials" | "no-region" | "throttled" | "capacity" | "auth" | "not-found" | "unreachable" | "server" | "other";

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "SlowDown",
  "RequestThrottled",
  "RequestThrottledException",
]);
const CAPACITY = new Set([
  "InsufficientInstanceCapacity",
  "InsufficientCapacity",
  "SpotMaxPriceTooLow",
  "MaxSpotInstanceCountExceeded",
  "InsufficientHostCapacity",
  "Unsupported",
]);
const AUTH = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "AuthFailure",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidAccessKeyId",
]);
const UNREACHABLE = new Set(["AwsNoAnswer", "ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN", "TimeoutError", "EHOSTUNREACH"]);

interface AwsLikeError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function awsErrorName(error: unknown): string {
  const e = (error ?? {}) as AwsLikeError;
  return e.Code ?? e.name ?? e.code ?? "Error";
}

/** The HTTP status AWS answered with, when it answered (S3's conditional writes are told apart by it: 304, 409, 412). */
export function awsHttpStatus(error: unknown): number | undefined {
  return ((error ?? {}) as AwsLikeError).$metadata?.httpStatusCode;
}

export function classifyAwsError(error: unknown): AwsErrorClass {
  const e = (error ?? {}) as AwsLikeError;
  const name = awsErrorName(error);
  const code = e.code ?? "";
  const status = e.$metadata?.httpStatusCode;
  // Raised by the SDK before any request is sent: nothing was refused, something is not set up.
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(String(e.message ?? ""))) return "no-credentials";
  if (/^Region is missing/.test(String(e.message ?? ""))) return "no-region";
  if (THROTTLING.has(name) || status === 429) return "throttled";
  if (CAPACITY.has(name)) return "capacity";
  // An S3 HEAD 403 has no body, so the SDK can only name it "Unknown": the status says enough.
  if (AUTH.has(name) || name.endsWith("NotAuthorized") || status === 403) return "auth";
  if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) return "unreachable";
  if (/NotFound|NoSuch|DoesNotExist|\.NotFound$/.test(name) || status === 404) return "not-found";
  if (status !== undefined && status >= 500) return "server";
  return "other";
}

/** No HTTP answer, or a 5xx: AWS may have done what was asked (launched the instance) anyway. */
export function answerMayBeLost(error: unknown): boolean {
  const status = ((error ?? {}) as AwsLikeError).$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

/** Turns an AWS failure into a user-facing error with a remedy, for the CLI to print. */
export function toSynktiError(error: unknown, doing: string): SynktiError {
  const name = awsErrorName(error);
  const detail = messageOf(error);
  switch (classifyAwsError(error)) {
    case "no-credentials":
      return noCredentials(error, doing);
    case "no-region":
      return new SynktiError(`No AWS region is configured (needed while ${doing}).`, {
        code: "no-region",
        kind: "unsafe",
        fault: "user",
        remedy: "the same command with --region <region> (e.g. --region us-east-1), or export AWS_REGION=<region>",
        cause: error,
      });
    case "unreachable":
      return unreachable(error, doing);
    case "auth":
      return new SynktiError(`AWS refused the request while ${doing} (${name}): ${detail}`, {
        code: "aws-auth",
        kind: "unobservable",
        fault: "user",
        remedy: "aws sts get-caller-identity   # then fix credentials or permissions; synkti preflight lists what is missing",
        cause: error,
      });
    case "throttled":
      return new SynktiError(`AWS throttled synkti while ${doing} (${name}) even after retries.`, {
        code: "aws-throttled",
        kind: "unobservable",
        fault: "aws",
        remedy: "wait a minute and run the same command again",
        cause: error,
      });
    case "capacity":
      return new SynktiError(`AWS has no capacity while ${doing} (${name}): ${detail}`, {
        code: "aws-capacity",
        kind: "unsafe",
        fault: "aws",
        remedy: "synkti preflight --project-name <project> --instance-type <instance-type>   # or the same command later",
        cause: error,
      });
    default:
      return new SynktiError(`AWS error while ${doing} (${name}): ${detail}`, {
        code: "aws-error",
        kind: "unobservable",
        fault: "aws",
        remedy: "the same command with --debug, for the request AWS refused and why",
        cause: error,
      });
  }
}

/**
 * No credentials: when a source was set up and failed (a credential_process that exits non-zero,
 * expired credentials, half a key pair), say which and why, and the command that shows the same
 * failure; only when nothing is set up at all, say so. Exit 1: a precondition is missing.
 */
function noCredentials(error: unknown, doing: string): SynktiError {
  const broken = error instanceof CredentialsUnavailable ? error.broken : [];
  const detail = messageOf(error);
  const message =
    broken.length > 0
      ? `AWS credentials could not be loaded while ${doing}: ${broken.map((f) => `${f.source} failed: ${f.reason}`).join("; ")}.`
      : `No AWS credentials were found while ${doing}: ${error instanceof CredentialsUnavailable ? detail : `environment, profile, SSO (${detail})`}.`;
  const profile = process.env.AWS_PROFILE?.trim();
  const remedy =
    broken.length > 0
      ? // The AWS CLI walks the same sources and prints the same failure: fix it there, then re-run.
        `aws sts get-caller-identity${profile ? ` --profile ${profile}` : ""}   # shows the same failure; fix the source it names (aws sso login, the credential_process, fresh keys), then the same command again`
      : // Only the AWS CLI can set credentials up: the one kind of fix that does not start with synkti.
        "aws configure --profile <profile>   # or aws sso login --profile <profile>, then export AWS_PROFILE=<profile>";
  return new SynktiError(message, { code: "no-credentials", kind: "unsafe", fault: "user", remedy, cause: error });
}

/**
 * AWS did not answer (a deadline passed) or could not be reached: say where synkti sent the call,
 * which call, and what to check. Exit 3: nothing was observed, nothing is known to be wrong.
 */
function unreachable(error: unknown, doing: string): SynktiError {
  const { endpoint, operation } = callFacts(error);
  const detail = messageOf(error);
  const where = endpoint ? ` at ${endpoint}${operation ? ` (${operation})` : ""}` : "";
  const viaEnv = endpointFromEnv(endpoint);
  const check = viaEnv
    ? `check that ${viaEnv.name}=${viaEnv.url} is the endpoint you mean and that it runs`
    : "check the network, a VPN or proxy, and the region";
  if (isAwsNoAnswer(error)) {
    return new SynktiError(`${detail} while ${doing}; ${check}.`, {
      code: "aws-no-answer",
      kind: "unobservable",
      fault: "aws",
      // Printed after "Run:": a command first, the condition as a comment.
      remedy: `synkti preflight --project-name <project>   # once${where ? ` ${endpoint}` : " AWS"} answers; ${AWS_TIMEOUT_ENV} (ms) sets how long synkti waits`,
      cause: error,
    });
  }
  return new SynktiError(`Could not reach AWS${where} while ${doing}: ${detail}; ${check}.`, {
    code: "aws-unreachable",
    kind: "unobservable",
    fault: "aws",
    remedy: "synkti preflight --project-name <project>   # once the network (and AWS_ENDPOINT_URL, if set) is right",
    cause: error,
  });
}

/** The endpoint override (AWS_ENDPOINT_URL or a service's own) that sent the call there, if one did. */
function endpointFromEnv(endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): { name: string; url: string } | undefined {
  const origin = (url: string) => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  };
  const overrides = Object.entries(env).filter((e): e is [string, string] => e[0].startsWith("AWS_ENDPOINT_URL") && !!e[1]);
  const match = overrides.find(([, url]) => endpoint !== undefined && origin(url) === origin(endpoint)) ?? (endpoint === undefined ? overrides[0] : undefined);
  return match ? { name: match[0], url: match[1] } : undefined;
}

/**
 * Runs AWS work and gives any failure its context ("while creating bucket x"), as a SynktiError
 * with a remedy, so the CLI prints a message and never a stack.
 */
export async function doing<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isSynktiError(error)) throw error;
    throw toSynktiError(error, what);
  }
}
