import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parseConcurrency, parseRegion, parseWorkers } from "../../../src/cli/parse.js";

describe("counts are plain decimal integers", () => {
  it.each(["1", "3", "100", "007"])("--workers %s is accepted", (value) => expect(parseWorkers(value)).toBe(Number(value)));

  it.each(["0x10", "1e2", "+3", " 5 ", "5 ", "", "5.0", "0", "101", "-1", "١٢", "9".repeat(30)])("--workers '%s' is refused with the rule", (value) => {
    expect(() => parseWorkers(value)).toThrow(InvalidArgumentError);
    expect(() => parseWorkers(value)).toThrow("must be a whole number from 1 to 100, in plain decimal digits (e.g. --workers 3)");
  });

  it("--concurrency follows the same rule with its own range", () => {
    expect(parseConcurrency("8")).toBe(8);
    expect(() => parseConcurrency("0x8")).toThrow(/from 1 to \d+, in plain decimal digits \(e\.g\. --concurrency 8\)/);
  });
});

describe("--region", () => {
  it.each(["us-east-1", "us-gov-west-1", "ap-southeast-4", "eu-central-2", "eusc-de-east-1"])("%s is a region", (value) => expect(parseRegion(value)).toBe(value));
  it.each(["us east 1", "US-EAST-1", "moon", "us-east-1 ", "$(id)"])("'%s' is refused", (value) => expect(() => parseRegion(value)).toThrow(/must be an AWS region name/));
});
