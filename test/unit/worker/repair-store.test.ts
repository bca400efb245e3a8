/**
 * The repair's objects in the bucket (src/worker/repair/repair-store.ts): an outcome record is
 * written once, by whoever comes first, and every reader (each worker's pause rule, `synkti status`)
 * must judge the record the bucket holds, not the one a later writer meant to write.
 */
import { describe, expect, it } from "vitest";
import { projectNames } from "../../../src/infra/names.js";
import type { RepairOutcome } from "../../../src/repair/index.js";
import { RepairStore } from "../../../src/worker/repair/repair-store.js";
import { repairStatus } from "../../../src/deployer/desired/repair-status.js";
import { pauseState } from "../../../src/repair/index.js";
import { FakeConditional } from "../deployer/fake-conditional.js";
import { FakeObjects } from "../deployer/fake-objects.js";

const names = projectNames("demo");
const DESIRED = { workers: 3, setAt: "2026-01-01T00:00:00.000Z" };
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
    expect(await store.recentOutcomes(DESIRED)).toEqual([first]);
  });

  it("its own record, once created, is not read back from the bucket", async () => {
    const conditional = new FakeConditional(names.bucket);
    const reader = new FakeObjects(names.bucket);
    const store = new RepairStore({ objects: conditional, reader }, names);
    const mine = outcome("2026-01-01T00:40:00.000Z", "never served");
    expect(await store.writeOutcome(mine)).toBe("created");
    reader.put(names.repairOutcomeKey(1, "i-dead"), conditional.text(names.repairOutcomeKey(1, "i-dead"))!, new Date("2026-01-01T00:40:00Z"));
    expect(await store.recentOutcomes(DESIRED)).toEqual([mine]);
    expect(reader.reads).toEqual([]);
  });

  it("a long-lived cluster (1,200 records, the newest under names S3 lists last): the workers' pause is the one synkti status shows", async () => {
    const conditional = new FakeConditional(names.bucket);
    const reader = new FakeObjects(names.bucket);
    const at = (minutes: number) => new Date(Date.parse(DESIRED.setAt) + minutes * 60_000);
    for (let n = 0; n < 1200; n++) {
      const o: RepairOutcome = { slot: 0, cause: `i-${String(n).padStart(17, "0")}`, replacement: "i-0eeeeeeeeeeeeeee0", outcome: "served", at: at(1 + n / 100).toISOString(), reason: "served" };
      reader.put(names.repairOutcomeKey(0, o.cause), JSON.stringify(o), at(1 + n / 100));
    }
    for (let n = 1; n <= 3; n++) {
      const o: RepairOutcome = { slot: 9, cause: `i-0000000000000000${n}`, replacement: `i-0eeeeeeeeeeeeeee${n}`, outcome: "failed", at: at(100 + n).toISOString(), reason: "never served" };
      reader.put(names.repairOutcomeKey(9, o.cause), JSON.stringify(o), at(100 + n));
    }
    const worker = pauseState(await new RepairStore({ objects: conditional, reader }, names).recentOutcomes(DESIRED), DESIRED);
    const status = await repairStatus({ objects: reader }, names, DESIRED, { model: "tiny" });
    expect(status.state).toBe("paused");
    expect(worker.paused).toBe(true);
  });

  it("a slot with a long past (1,500 claims): the fresh claim S3 lists last is still seen, so the census holds the slot for it", async () => {
    const reader = new FakeObjects(names.bucket);
    for (let n = 0; n < 1500; n++) reader.put(names.claimKey(3, `i-${String(n).padStart(17, "0")}`), "{}", new Date(0));
    reader.put(names.claimKey(3, "i-0fffffffffffffffff"), "{}", new Date(Date.parse(DESIRED.setAt)));
    const claims = await new RepairStore({ objects: new FakeConditional(names.bucket), reader }, names).claimsOf(3);
    expect(claims.map((c) => c.cause)).toContain("i-0fffffffffffffffff");
  });
});
