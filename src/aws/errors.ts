import { SynktiError } from "../core/errors.js";

/** What kind of AWS failure this is, so callers decide (retry, move AZ, report) without string checks. */
export type AwsErrorClass = "throttled" | "capacity" | "auth" | "not-found" | "unreachable" | "server" | "other";

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
  "CredentialsProviderError",
]);
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN", "TimeoutError", "EHOSTUNREACH"]);

interface AwsLikeError {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function awsErrorName(error: unknown): string {
  const e = (error ?? {}) as AwsLikeError;
  return e.Code ?? e.name ?? e.code ?? "Error";
}

export function classifyAwsError(error: unknown): AwsErrorClass {
  const e = (error ?? {}) as AwsLikeError;
  const name = awsErrorName(error);
  const code = e.code ?? "";
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING.has(name) || status === 429) return "throttled";
  if (CAPACITY.has(name)) return "capacity";
  // An S3 HEAD 403 has no body, so the SDK can only name it "Unknown": the status says enough.
  if (AUTH.has(name) || name.endsWith("NotAuthorized") || status === 403) return "auth";
  if (UNREACHABLE.has(code) || UNREACHABLE.has(name)) return "unreachable";
  if (/NotFound|NoSuch|DoesNotExist|\.NotFound$/.test(name) || status === 404) return "not-found";
  if (status !== undefined && status >= 500) return "server";
  return "other";
}

/** Turns an AWS failure into a user-facing error with a remedy, for the CLI to print. */
export function toSynktiError(error: unknown, doing: string): SynktiError {
  const name = awsErrorName(error);
  const detail = error instanceof Error ? error.message : String(error);
  switch (classifyAwsError(error)) {
    case "unreachable":
      return new SynktiError(`Could not reach AWS while ${doing}: ${detail}`, {
        code: "aws-unreachable",
        kind: "unobservable",
        fault: "aws",
        // Printed after "Run:": a command first, the condition as a comment.
        remedy: "synkti preflight --project-name <project>   # once the network (and AWS_ENDPOINT_URL, if set) is right",
        cause: error,
      });
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
