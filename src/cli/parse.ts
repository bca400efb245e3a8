import { InvalidArgumentError } from "commander";
import { MAX_CONCURRENCY } from "../deployer/upload/types.js";

/** Commander argument parsers: a bad value is a usage error (exit 2) naming the rule. */
export function parseWorkers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError("must be a whole number from 1 to 100");
  return n;
}

export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_CONCURRENCY}`);
  return n;
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const DURATION_RULE = "must be a duration with units, such as 90s, 10m, 1h or 1h30m, from 1s to 24h";

/** `--wait-timeout`-style durations (h, m, s, combinable), in milliseconds. A bare number is refused: seconds or minutes? */
export function parseDuration(value: string): number {
  const m = DURATION.exec(value.trim());
  if (!m || !(m[1] || m[2] || m[3])) throw new InvalidArgumentError(DURATION_RULE);
  const ms = (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
  if (ms < 1000 || ms > 24 * 3600_000) throw new InvalidArgumentError(DURATION_RULE);
  return ms;
}
