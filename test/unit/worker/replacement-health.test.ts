import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { projectNames } from "../../../src/infra/names.js";
import { healthByReplacement, recordHealthAsReplacement } from "../../../src/worker/failover/replacement-health.js";
import { FakeClock } from "../../support/fake-clock.js";

const DOOMED = "i-0000000000000000d";
const SELF = "i-000000000000000a1";
const NOW = new Date("2026-01-01T00:05:00Z");
const names = projectNames("demo");

const phase = (state: string, startedAt: string | null = "2026-01-01T00:00:00.000Z", endedAt: string | null = "2026-01-01T00:00:10.000Z") => ({ state, startedAt, endedAt, detail: null });
function record(health: ReturnType<typeof phase>, replacement: string | null = SELF) {
  return {
    doomed: DOOMED,
    status: "retired",
    trigger: "spot-interruption",
    deadlineAt: "2026-01-01T00:02:00.000Z",
    replacement,
    phases: { drain: phase("done"), select: phase("done"), spawn: phase("done"), health },
  };
}

describe("healthByReplacement (which records a replacement rewrites, and how)", () => {
  for (const state of ["handed-over", "running", "pending"]) {
    it(`closes an open HEALTH (${state}): done, ended now, said by whom; the rest as written`, () => {
      const before = record(phase(state, "2026-01-01T00:00:05.000Z", null));
      const out = healthByReplacement(before, { doomed: DOOMED, self: SELF, now: NOW });
      expect(out).toEqual({
        kind: "rewrite",
        record: { ...before, phases: { ...before.phases, health: { state: "done", startedAt: "2026-01-01T00:00:05.000Z", endedAt: NOW.toISOString(), detail: `recorded by the replacement ${SELF}` } } },
      });
    });
  }

  it("names itself the replacement when the record names none", () => {
    const out = healthByReplacement(record(phase("handed-over"), null), { doomed: DOOMED, self: SELF, now: NOW });
    expect(out.kind === "rewrite" && out.record.replacement).toBe(SELF);
  });

  for (const state of ["done", "failed", "skipped"]) {
    it(`never overwrites a HEALTH that ended (${state})`, () => {
      expect(healthByReplacement(record(phase(state)), { doomed: DOOMED, self: SELF, now: NOW })).toEqual({ kind: "skip", reason: `HEALTH already ended (${state})` });
    });
  }

  it("leaves a record about another replacement, another doomed instance, or a bad shape alone", () => {
    expect(healthByReplacement(record(phase("handed-over"), "i-000000000000000b2"), { doomed: DOOMED, self: SELF, now: NOW }).kind).toBe("skip");
    expect(healthByReplacement({ ...record(phase("handed-over")), doomed: "i-0000000000000000e" }, { doomed: DOOMED, self: SELF, now: NOW }).kind).toBe("skip");
    expect(healthByReplacement({ doomed: DOOMED }, { doomed: DOOMED, self: SELF, now: NOW }).kind).toBe("skip");
  });
});

describe("recordHealthAsReplacement", () => {
  function world(opts: { tag?: string; stored?: unknown; serving?: () => boolean; putFails?: boolean }) {
    const puts: Array<{ key: string; body: string }> = [];
    const clock = new FakeClock(NOW);
    const deps = {
      imds: { get: async (path: string) => (path.endsWith("/SynktiReplaces") ? opts.tag : undefined) },
      reader: {
        read: async (_bucket: string, key: string) => {
          if (key !== names.failoverKey(DOOMED) || opts.stored === undefined) return undefined;
          const bytes = Buffer.from(JSON.stringify(opts.stored));
          return { bytes, totalSize: bytes.length };
        },
      },
      store: {
        put: async (key: string, body: string) => {
          if (opts.putFails) throw new Error("AccessDenied");
          puts.push({ key, body });
        },
      },
      clock,
      log: silentLogger,
      names,
      self: SELF,
      serving: opts.serving ?? (() => true),
    };
    return { deps, puts, clock };
  }
  const signal = new AbortController().signal;

  it("writes the closed HEALTH back to checkpoints/failovers/<doomed id>.json once it serves", async () => {
    let serving = false;
    const w = world({ tag: DOOMED, stored: record(phase("handed-over", "2026-01-01T00:00:05.000Z", null)), serving: () => serving });
    const done = recordHealthAsReplacement(w.deps, { pollMs: 1000 }, signal);
    await w.clock.untilPending(1);
    await w.clock.advance(1000);
    expect(w.puts).toEqual([]); // not serving yet: nothing written
    serving = true;
    await w.clock.advance(1000);
    expect(await done).toBe("recorded");
    expect(w.puts.map((p) => p.key)).toEqual([`checkpoints/failovers/${DOOMED}.json`]);
    expect(JSON.parse(w.puts[0]!.body).phases.health).toMatchObject({ state: "done", detail: `recorded by the replacement ${SELF}` });
  });

  it("does nothing on an instance that replaces none, or when the record is missing or ended", async () => {
    const none = world({ stored: record(phase("handed-over")) });
    expect(await recordHealthAsReplacement(none.deps, { pollMs: 1000 }, signal)).toBe("not-a-replacement");
    const missing = world({ tag: DOOMED });
    expect(await recordHealthAsReplacement(missing.deps, { pollMs: 1000 }, signal)).toBe("no-record");
    const ended = world({ tag: DOOMED, stored: record(phase("failed")) });
    expect(await recordHealthAsReplacement(ended.deps, { pollMs: 1000 }, signal)).toBe("skipped");
    expect([...none.puts, ...missing.puts, ...ended.puts]).toEqual([]);
  });

  it("a write S3 refuses is logged, never thrown", async () => {
    const w = world({ tag: DOOMED, stored: record(phase("handed-over")), putFails: true });
    expect(await recordHealthAsReplacement(w.deps, { pollMs: 1000 }, signal)).toBe("failed");
  });
});
