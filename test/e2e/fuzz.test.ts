import { describe, expect, it } from "vitest";
import { fuzzBinary } from "../support/binary-fuzz.js";

/**
 * About 50 runs of the built binary on generated hostile command lines and environments (issue 14):
 * no stack trace, no exit 4, no hang past the deadline, no file written in HOME, TMPDIR, the working
 * folder or the inputs. The cases come from a seed printed on failure (SYNKTI_FUZZ_SEED replays it);
 * `npm run bench` runs many more (scripts/bench/fuzz.ts).
 */
describe("fuzzing the built binary", () => {
  it("50 hostile command lines: every run ends within its deadline with a contract exit code and no trace, writing nothing", async () => {
    const seed = process.env.SYNKTI_FUZZ_SEED ? Number(process.env.SYNKTI_FUZZ_SEED) : undefined;
    const report = await fuzzBinary({ runs: 50, parallel: 3, deadlineMs: 20_000, ...(seed !== undefined ? { seed } : {}) });
    const shown = report.violations.map((v) => ({ argv: v.argv, env: v.env, code: v.code, problems: v.problems }));
    expect(shown, `seed ${report.seed} (replay: SYNKTI_FUZZ_SEED=${report.seed})`).toEqual([]);
    expect(report.runs).toHaveLength(50);
    // The generator reaches the refusals and the AWS calls alike, not only commander's usage errors.
    const codes = new Set(report.runs.map((r) => r.code));
    expect(codes.has(2)).toBe(true);
    expect([...codes].some((c) => c === 0 || c === 1 || c === 3)).toBe(true);
  }, 90_000);
});
