import { InvalidArgumentError } from "commander";

/** Commander argument parsers: a bad value is a usage error (exit 2) naming the rule. */
export function parseWorkers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError("must be a whole number from 1 to 100");
  return n;
}
