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
