// vitest globalSetup: the end-to-end tests run the built single binary. Build it when it is missing
// or older than the sources, so `npm test` works on a fresh clone without a separate step.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

// What goes into the binary: the code, the user-data template it embeds, and the build itself.
const INPUTS = ["src", "package.json", "sea-config.json", "scripts/user-data.sh.tpl", "scripts/build.mjs"];

function newestInputMtime(): number {
  return Math.max(...INPUTS.map((input) => path.join(root, input)).map((p) => (statSync(p).isDirectory() ? newestSourceMtime(p) : statSync(p).mtimeMs)));
}

export default function setup(): void {
  const stale = !existsSync(binary) || statSync(binary).mtimeMs < newestInputMtime();
  if (stale) execFileSync(process.execPath, [path.join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
}
