import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { launchRequest, replacementClientToken } from "../../../src/failover/spawn-request.js";
import { TAG_REPLACES, TAG_SLOT } from "../../../src/infra/names.js";

const doomed = { instanceId: "i-0abc", instanceType: "g5.xlarge", zone: "us-east-1a", slot: "2" };
const pool = { instanceType: "g5.xlarge", zone: "us-east-1b", market: "spot" as const };

describe("SPAWN's request", () => {
  it("has a ClientToken that is the hex SHA-256 of project, doomed id and pool: 64 characters, stable", () => {
    const token = replacementClientToken("demo", "i-0abc", pool);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(token).toBe(createHash("sha256").update("demo\ni-0abc\ng5.xlarge/us-east-1b").digest("hex"));
    expect(replacementClientToken("demo", "i-0abc", pool)).toBe(token);
  });

  it("has a different ClientToken per pool, market, doomed instance and project", () => {
    const tokens = new Set([
      replacementClientToken("demo", "i-0abc", pool),
      replacementClientToken("demo", "i-0abc", { ...pool, zone: "us-east-1c" }),
      replacementClientToken("demo", "i-0abc", { ...pool, instanceType: "g6.xlarge" }),
      replacementClientToken("demo", "i-0abc", { ...pool, market: "on-demand" }),
      replacementClientToken("demo", "i-0def", pool),
      replacementClientToken("other", "i-0abc", pool),
    ]);
    expect(tokens.size).toBe(6);
  });

  it("is tagged SynktiReplaces, launched as r-<doomed id>, and inherits the slot", () => {
    expect(launchRequest("demo", doomed, pool)).toEqual({
      candidate: pool,
      clientToken: replacementClientToken("demo", "i-0abc", pool),
      launchId: "r-i-0abc",
      tags: { [TAG_REPLACES]: "i-0abc", [TAG_SLOT]: "2" },
    });
  });

  it("has no slot tag when the doomed worker had none", () => {
    const { slot: _slot, ...unslotted } = doomed;
    expect(launchRequest("demo", unslotted, pool).tags).toEqual({ [TAG_REPLACES]: "i-0abc" });
  });
});
