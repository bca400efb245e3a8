import { InvalidArgumentError } from "commander";
import { MAX_CONCURRENCY } from "../deployer/upload/types.js";

/**
 * Commander argument parsers: a bad value is a usage error (exit 2) naming the rule. Counts are
 * plain decimal digits only: `Number()` alone takes 0x10, 1e2, +3, " 5 " and "" (= 0), none of
 * which an operator means as a count.
 */
const PLAIN_DECIMAL = /^[0-9]{1,9}$/;

/** A whole number in [min, max], written as plain decimal digits. */
function parseCount(value: string, min: number, max: number, example: string): number {
  const n = PLAIN_DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}, in plain decimal digits (e.g. ${example})`);
  }
  return n;
}

export function parseWorkers(value: string): number {
  return parseCount(value, 1, 100, "--workers 3");
}

export function parseConcurrency(value: string): number {
  return parseCount(value, 1, MAX_CONCURRENCY, "--concurrency 8");
}

/** An AWS region's shape (us-east-1, us-gov-west-1, ap-southeast-4, eusc-de-east-1): anything else is a typo, not a region. */
export const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;

export function parseRegion(value: string): string {
  if (!REGION.test(value)) throw new InvalidArgumentError("must be an AWS region name such as us-east-1 or eu-west-2");
  return value;
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const DURATION_RULE = "must be a duration with units, such as 90s, 10m, 1h or 1h30m, from 1s to 24h";

/** `--wait-timeout`-style durations (h, m, s, combinable), in milliseconds. A bare number is refused: seconds or minutes? */
export function parseDuration(value: string): number {
  const m = DURATION.exec(value);
  if (!m || !(m[1] || m[2] || m[3])) throw new InvalidArgumentError(DURATION_RULE);
  const ms = (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
  if (ms < 1000 || ms > 24 * 3600_000) throw new InvalidArgumentError(DURATION_RULE);
  return ms;
}
