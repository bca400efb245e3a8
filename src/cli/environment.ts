import { isIP } from "node:net";
import path from "node:path";
import { AWS_TIMEOUT_ENV, awsDeadlinesFromEnv, DEFAULT_AWS_TIMEOUT_MS } from "../aws/deadlines.js";
import { SynktiError, usageError } from "../core/errors.js";
import { endpointUrlOverride, ENDPOINT_URL_VARIABLE } from "../deployer/endpoint/url.js";
import { imdsSettingsFromEnv } from "../context/imds-settings.js";
import { contextCacheFromEnv } from "../context/verdict-cache.js";
import { REGION } from "./parse.js";
import { checkPlaceholders, DEFAULT_MODEL_SERVER_COMMAND, splitCommandTemplate } from "../worker/model-server/command-template.js";

/**
 * Every environment variable synkti reads, declared once: its meaning, default and valid values.
 * `checkEnvironment` runs before any command, so a bad value is exit 2 naming the valid ones,
 * never a crash deep inside (pino on `SYNKTI_LOG_LEVEL=silly` was exit 4). An empty value is the
 * same as unset, as every reader treats it. The README's environment table lists exactly these
 * (test/unit/cli/environment.test.ts). Variables only user-data reads (SYNKTI_INSTALL_PREFIX) and
 * the ones the AWS SDK reads on its own (AWS_PROFILE, credentials) are not here.
 */
export interface EnvironmentVariable {
  name: string;
  /** Which side reads it: a laptop's commands, the agent on a worker, or both. */
  readBy: "deployer" | "worker" | "both";
  default: string;
  meaning: string;
  /** The valid values, in words: the error says them. */
  valid: string;
  /** A valid value, for the `export` line a refusal prints. */
  example: string;
  /** Throws a usage error (exit 2) saying what is valid; returns when the value is fine. */
  check(value: string): void;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const PLAIN_DECIMAL = /^\d+$/;

/** A variable checked by a predicate; its error names the valid values and the line that fixes it. */
function rule(spec: Omit<EnvironmentVariable, "check" | "example">, ok: (value: string) => boolean, example: string): EnvironmentVariable {
  const variable: EnvironmentVariable = {
    ...spec,
    example,
    check(value) {
      if (!ok(value)) throw refusal(variable, value);
    },
  };
  return variable;
}

function refusal(variable: EnvironmentVariable, value: string, problem?: string) {
  const example = /\s/.test(variable.example) ? `'${variable.example}'` : variable.example;
  return usageError(
    "invalid-environment",
    `${variable.name}=${shown(value)} is not valid${problem ? ` (${problem})` : ""}; it must be ${variable.valid}.`,
    `export ${variable.name}=${example}   # or: unset ${variable.name}`,
  );
}

/** The value as the operator set it, made printable and short (it may be anything). */
function shown(value: string): string {
  const printable = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value).slice(1, -1);
  return `'${printable}'`;
}

const oneOf = (values: readonly string[], caseless = false) => (value: string) => values.includes(caseless ? value.toLowerCase() : value);
const port = (value: string) => PLAIN_DECIMAL.test(value) && Number(value) <= 65535;
const absolutePath = (value: string) => path.isAbsolute(value);
const httpUrl = (value: string) => {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
};

export const ENVIRONMENT: readonly EnvironmentVariable[] = [
  rule(
    { name: "SYNKTI_LOG_LEVEL", readBy: "both", default: "info", meaning: "how much goes to stderr", valid: `one of ${LOG_LEVELS.join(", ")}` },
    oneOf(LOG_LEVELS),
    "debug",
  ),
  {
    name: "SYNKTI_CONTEXT_CACHE",
    readBy: "deployer",
    default: "on",
    meaning: "remember a 'not EC2' verdict reached by a silent IMDS for the rest of the boot (`off`: ask IMDS every time)",
    valid: "on or off",
    example: "off",
    check: (value) => void contextCacheFromEnv({ SYNKTI_CONTEXT_CACHE: value }),
  },
  {
    name: AWS_TIMEOUT_ENV,
    readBy: "both",
    default: String(DEFAULT_AWS_TIMEOUT_MS),
    meaning: "how long one AWS call may wait for an answer, in milliseconds",
    valid: "a whole number of milliseconds from 100 to 600000",
    example: String(DEFAULT_AWS_TIMEOUT_MS),
    check: (value) => void awsDeadlinesFromEnv({ [AWS_TIMEOUT_ENV]: value }),
  },
  {
    name: ENDPOINT_URL_VARIABLE,
    readBy: "deployer",
    default: "the load balancer's URL",
    meaning: "the URL `endpoint`, `status` and a launch show (a tunnel, the local cloud)",
    valid: "an http:// or https:// URL without user, password, query or fragment",
    example: "http://127.0.0.1:8080",
    check: (value) => void endpointUrlOverride({ [ENDPOINT_URL_VARIABLE]: value }),
  },
  rule(
    { name: "SYNKTI_SYSFS_ROOT", readBy: "both", default: "/sys", meaning: "where DMI is read to tell EC2 from a laptop (tests: a folder they fill)", valid: "an absolute path" },
    absolutePath,
    "/sys",
  ),
  {
    name: "SYNKTI_MODEL_SERVER_COMMAND",
    readBy: "worker",
    default: DEFAULT_MODEL_SERVER_COMMAND,
    meaning: "the model server's command template (`--model-server-command` wins)",
    valid: "a command with the placeholders {model_dir}, {model}, {host}, {port} and no shell operators",
    example: DEFAULT_MODEL_SERVER_COMMAND,
    check: (value) => {
      checkPlaceholders(value);
      splitCommandTemplate(value);
    },
  },
  rule({ name: "SYNKTI_MODELS_DIR", readBy: "worker", default: "/models", meaning: "weights are in `<dir>/<model>`", valid: "an absolute path" }, absolutePath, "/models"),
  rule(
    { name: "SYNKTI_MODEL_SERVER_HOST", readBy: "worker", default: "the instance's local-ipv4", meaning: "the model server's bind address", valid: "an IP address or a host name" },
    (value) => isIP(value) !== 0 || /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(value),
    "127.0.0.1",
  ),
  rule({ name: "SYNKTI_MODEL_SERVER_PORT", readBy: "worker", default: "8000", meaning: "the model server's port", valid: "a TCP port, a whole number from 0 to 65535" }, port, "8000"),
  rule({ name: "SYNKTI_STATUS_PORT", readBy: "worker", default: "8080", meaning: "the status endpoint's port (0: any free one, tests)", valid: "a TCP port, a whole number from 0 to 65535" }, port, "8080"),
  rule(
    { name: "SYNKTI_EXPECTED_SHA256", readBy: "worker", default: "unset (check skipped)", meaning: "SHA-256 of the binary user-data verified", valid: "64 hexadecimal digits" },
    (value) => /^[0-9a-fA-F]{64}$/.test(value),
    "<sha256>",
  ),
  rule(
    { name: "SYNKTI_EXPECTED_MANIFEST_SHA256", readBy: "worker", default: "unset (check skipped)", meaning: "SHA-256 of the pinned manifest the agent fetches and checks", valid: "64 hexadecimal digits" },
    (value) => /^[0-9a-fA-F]{64}$/.test(value),
    "<sha256>",
  ),
  rule(
    { name: "SYNKTI_WORKER_DRY_RUN", readBy: "worker", default: "unset", meaning: "never terminate itself (DryRun instead): tests, rehearsals", valid: "one of 1, true, yes, 0, false, no" },
    oneOf(["1", "true", "yes", "0", "false", "no"], true),
    "1",
  ),
  rule(
    { name: "SYNKTI_READY_TIMEOUT_SECONDS", readBy: "worker", default: "1200", meaning: "how long a model may take to load", valid: "a positive number of seconds, in plain decimal (e.g. 90 or 0.5)" },
    (value) => /^\d+(?:\.\d+)?$/.test(value) && Number(value) > 0,
    "1200",
  ),
  rule({ name: "SYNKTI_STATE_DIR", readBy: "worker", default: "<models dir>/.synkti", meaning: "the failover's and repairs' state files (`failover.json`, `repair-<slot>-<cause>.json`)", valid: "an absolute path" }, absolutePath, "/models/.synkti"),
  rule({ name: "SYNKTI_BOOT_LOG", readBy: "worker", default: "set by user-data", meaning: "the boot log whose tail goes to `checkpoints/logs/<id>.log`", valid: "an absolute path" }, absolutePath, "/var/log/synkti-boot.log"),
  rule(
    { name: "AWS_REGION", readBy: "both", default: "the profile's region", meaning: "the AWS region (`--region` wins)", valid: "an AWS region name such as us-east-1" },
    (value) => REGION.test(value),
    "us-east-1",
  ),
  rule(
    { name: "AWS_DEFAULT_REGION", readBy: "both", default: "unset", meaning: "the region when AWS_REGION is unset", valid: "an AWS region name such as us-east-1" },
    (value) => REGION.test(value),
    "us-east-1",
  ),
  rule({ name: "AWS_ENDPOINT_URL", readBy: "both", default: "AWS's own endpoints", meaning: "one endpoint for every AWS service (moto, the local cloud)", valid: "an http:// or https:// URL" }, httpUrl, "http://127.0.0.1:5000"),
  rule({ name: "AWS_ENDPOINT_URL_S3", readBy: "both", default: "AWS_ENDPOINT_URL", meaning: "S3's endpoint alone", valid: "an http:// or https:// URL" }, httpUrl, "http://127.0.0.1:5000"),
  {
    name: "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    readBy: "both",
    default: "http://169.254.169.254",
    meaning: "the instance metadata service (tests: an emulator on loopback)",
    valid: "an http:// or https:// URL",
    example: "http://169.254.169.254",
    check: (value) => void imdsSettingsFromEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: value }),
  },
  rule(
    { name: "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", readBy: "both", default: "IPv4", meaning: "IPv6: the metadata service's IPv6 address", valid: "IPv4 or IPv6" },
    oneOf(["ipv4", "ipv6"], true),
    "IPv4",
  ),
  rule(
    { name: "AWS_EC2_METADATA_DISABLED", readBy: "both", default: "false", meaning: "true: never ask the metadata service (a laptop)", valid: "true or false" },
    oneOf(["true", "false"], true),
    "true",
  ),
];

/** Checks every declared variable that is set (and not empty): the first bad one is a usage error. */
export function checkEnvironment(env: NodeJS.ProcessEnv): void {
  for (const variable of ENVIRONMENT) {
    const value = env[variable.name]?.trim();
    if (!value) continue;
    try {
      variable.check(value);
    } catch (error) {
      throw namingTheVariable(variable, value, error);
    }
  }
}

/**
 * A check borrowed from the code that reads the variable (the model server template's) may word
 * its refusal without the variable's name, or echo the value raw: then the refusal is reworded so
 * it names the variable, shows the value printable, and keeps the problem when that is printable.
 */
function namingTheVariable(variable: EnvironmentVariable, value: string, error: unknown): unknown {
  if (!(error instanceof SynktiError)) return error;
  const printable = !/[\u0000-\u001f\u007f]/.test(error.message);
  if (error.message.includes(variable.name) && printable) return error;
  const problem = printable ? error.message.replace(/\.$/, "").replace(value, "(the value)") : undefined;
  return refusal(variable, value, problem);
}
