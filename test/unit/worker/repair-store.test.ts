/**
 * The repair's objects in the bucket (src/worker/repair/repair-store.ts): an outcome record is
 * written once, by whoever comes first, and every reader (each worker's pause rule, `synkti status`)
 * must judge the record the bucket holds, not the one a later writer meant to write.
 */
import { describe, expect, it } from "vitest";
import { projectNames } from "../../../src/infra/names.js";
import type { RepairOutcome } from "../../../src/repair/index.js";
import { RepairStore } from "../../../src/worker/repair/repair-store.js";
import { FakeConditional } from "../deployer/fake-conditional.js";
import { FakeObjects } from "../deployer/fake-objects.js";

const names = projectNames("demo");
const outcome = (at: string, reason: string): RepairOutcome => ({ slot: 1, cause: "i-dead", replacement: "i-r1", outcome: "failed", at, reason });

describe("repair store", () => {
  it("an outcome record another member wrote first is the one this worker reads back (its own 412'd version is not remembered)", async () => {
    const conditional = new FakeConditional(names.bucket);
    const reader = new FakeObjects(names.bucket);
    const key = names.repairOutcomeKey(1, "i-dead");
    const first = outcome("2026-01-01T00:10:00.000Z", "the claimant's word: never served");
    conditional.set(key, JSON.stringify(first));
    reader.put(key, JSON.stringify(first), new Date("2026-01-01T00:10:00Z"));
    const store = new RepairStore({ objects: conditional, reader }, names);

    expect(await store.writeOutcome(outcome("2026-01-01T00:40:00.000Z", "a later claimant's word"))).toBe("exists");
    expect(await store.recentOutcomes()).toEqual([first]);
  });

  it("its own record, once created, is not read back from the bucket", async () => {
    const conditional = new FakeConditional(names.bucket);
    const reader = new FakeObjects(names.bucket);
    const store = new RepairStore({ objects: conditional, reader }, names);
    const mine = outcome("2026-01-01T00:40:00.000Z", "never served");
    expect(await store.writeOutcome(mine)).toBe("created");
    reader.put(names.repairOutcomeKey(1, "i-dead"), conditional.text(names.repairOutcomeKey(1, "i-dead"))!, new Date("2026-01-01T00:40:00Z"));
    expect(await store.recentOutcomes()).toEqual([mine]);
    expect(reader.reads).toEqual([]);
  });
});
