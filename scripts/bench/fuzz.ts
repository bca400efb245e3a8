import { fuzzBinary } from "../../test/support/binary-fuzz.js";
import { percentile } from "./measure.js";

/**
 * The longer fuzz run (the e2e test does 50 cases): `runs` hostile command lines and environments
 * against the built binary, judged like the test (no hang, no exit 4, no stack, nothing written).
 * Prints what the cases reached (exit codes, commands) and every violation with its seed, so a
 * finding is replayed with SYNKTI_FUZZ_SEED=<seed> npx vitest run test/e2e/fuzz.test.ts.
 * The in-process properties run longer with SYNKTI_FUZZ_RUNS=5000 npx vitest run test/unit/cli/fuzz.test.ts.
 */
export async function benchFuzz(runs = Number(process.env.SYNKTI_FUZZ_BENCH_RUNS ?? 500)): Promise<string[]> {
  const started = Date.now();
  const report = await fuzzBinary({ runs, parallel: 2, deadlineMs: 30_000, ...(process.env.SYNKTI_FUZZ_SEED ? { seed: Number(process.env.SYNKTI_FUZZ_SEED) } : {}) });
  const count = <K>(keys: K[]) => [...keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<K, number>())].sort((a, b) => b[1] - a[1]);
  const commands = count(report.runs.map((r) => r.argv.filter((a, i) => i < 2 && /^[a-z]+$/.test(a)).slice(0, 2).join(" ") || "(root)"));
  const durations = report.runs.map((r) => r.durationMs);
  const lines = [
    `${runs} runs of dist/synkti in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${report.seed}); per run p50 ${percentile(durations, 50).toFixed(0)} ms, p99 ${percentile(durations, 99).toFixed(0)} ms, max ${Math.max(...durations).toFixed(0)} ms`,
    `exit codes: ${count(report.runs.map((r) => String(r.code))).map(([c, n]) => `${c}: ${n}`).join(", ")}`,
    `commands: ${commands.map(([c, n]) => `${c} ${n}`).join(", ")}`,
    `violations: ${report.violations.length}`,
  ];
  for (const v of report.violations.slice(0, 10)) lines.push(`  ${JSON.stringify(v.argv)} env ${JSON.stringify(v.env)} -> ${v.problems.join(" | ").slice(0, 400)}`);
  return lines;
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchFuzz()) console.log(line);
}
