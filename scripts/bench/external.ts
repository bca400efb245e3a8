/**
 * Times commands from outside any Node process: hyperfine when installed (-N: no shell in between;
 * the median), else bash timing a loop of runs (`time (for ...)`: the mean). Timing a child from
 * inside Node adds the parent's own spawn cost to every figure and flatters ratios.
 * BENCH_NO_HYPERFINE=1 forces the loop (what a CI machine without hyperfine gets).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface ExternalCase {
  label: string;
  argv: string[];
}

export function timeExternally(cases: ExternalCase[], runs: number, env: NodeJS.ProcessEnv = process.env): { ms: number[]; how: string } {
  return hasHyperfine() && !process.env.BENCH_NO_HYPERFINE ? withHyperfine(cases, runs, env) : withShellLoop(cases, runs, env);
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
const commandLine = (argv: string[]) => argv.map(quote).join(" ");

function hasHyperfine(): boolean {
  return spawnSync("hyperfine", ["--version"], { stdio: "ignore" }).status === 0;
}

/** hyperfine: medians in ms, in CASES order. */
function withHyperfine(cases: ExternalCase[], runs: number, env: NodeJS.ProcessEnv): { ms: number[]; how: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "synkti-bench-startup-"));
  try {
    const json = path.join(dir, "results.json");
    const args = ["-N", "--warmup", "3", "--runs", String(runs), "--style", "none", "--export-json", json, ...cases.map((c) => commandLine(c.argv))];
    const result = spawnSync("hyperfine", args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env });
    if (result.status !== 0) throw new Error(`hyperfine failed: ${result.stderr.trim()}`);
    const parsed = JSON.parse(readFileSync(json, "utf8")) as { results: Array<{ median: number }> };
    return { ms: parsed.results.map((r) => r.median * 1000), how: `hyperfine -N, median of ${runs}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Without hyperfine: bash times a loop of `runs` starts of each command; the mean in ms. */
function withShellLoop(cases: ExternalCase[], runs: number, env: NodeJS.ProcessEnv): { ms: number[]; how: string } {
  const ms = cases.map((c) => {
    const script = `TIMEFORMAT=%R; time (for i in $(seq ${runs}); do ${commandLine(c.argv)} >/dev/null; done)`;
    commandRun(script, env); // warm-up: page cache, the binary mapped once
    return (commandRun(script, env) * 1000) / runs;
  });
  return { ms, how: `bash time of a ${runs}-run loop, mean` };
}

function commandRun(script: string, env: NodeJS.ProcessEnv): number {
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], env });
  const seconds = Number(result.stderr.trim().split("\n").at(-1));
  if (result.status !== 0 || !Number.isFinite(seconds)) throw new Error(`timing loop failed: ${result.stderr.trim()}`);
  return seconds;
}

