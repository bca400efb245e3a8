/**
 * Commander's output (help, usage errors) written without making process.stdout/stderr when they
 * are a pipe, a file or /dev/null (src/cli/stdio.ts): making a stream loads Node's stream modules,
 * a tenth of `synkti --help`'s start-up. Checked in a plain Node child (tsx itself makes the
 * streams) running the CLI bundled by esbuild, which reports the streams that were made.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..", "..");
// Under build/ (ignored by git) so the bundle's npm imports resolve from the repository.
mkdirSync(path.join(root, "build"), { recursive: true });
const dir = mkdtempSync(path.join(root, "build", "stdio-test-"));
const bundle = path.join(dir, "run.cjs");

// Node makes process.stdout and process.stderr in their getters, on first use: the driver notes each use.
const DRIVER = `
const streams = new Set();
for (const name of ["stdout", "stderr"]) {
  const { get } = Object.getOwnPropertyDescriptor(process, name);
  Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => (streams.add(name), get.call(process)) });
}
const { run } = (await import("node:module")).createRequire(import.meta.url)(process.argv[1]);
const code = await run(["synkti", "synkti", ...process.argv.slice(2)]);
const { writeSync } = await import("node:fs");
writeSync(3, JSON.stringify({ code, streams: [...streams] }));
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  report: { code: number; streams: string[] } | undefined;
}

/** Runs the bundled CLI with `args`; stdout goes to a pipe, or to the file `stdoutFile`. */
function runBundled(args: string[], options: { stdoutFile?: string; closeStdoutAtOnce?: boolean } = {}): Promise<Run> {
  const fd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, "w");
  const child = spawn(process.execPath, ["--input-type=module", "-e", DRIVER, bundle, ...args], {
    stdio: ["ignore", fd ?? "pipe", "pipe", "pipe"],
  });
  if (fd !== undefined) closeSync(fd);
  if (options.closeStdoutAtOnce) child.stdout!.destroy(); // the reader is gone before the CLI writes
  const read = (stream: NodeJS.ReadableStream | null) => {
    let text = "";
    stream?.on("data", (chunk: Buffer) => (text += chunk.toString()));
    return () => text;
  };
  const stdout = options.closeStdoutAtOnce ? () => "" : read(child.stdout);
  const stderr = read(child.stderr);
  const report = read(child.stdio[3] as NodeJS.ReadableStream);
  return new Promise((resolve) =>
    child.on("close", (code) =>
      resolve({ code, stdout: options.stdoutFile ? readFileSync(options.stdoutFile, "utf8") : stdout(), stderr: stderr(), report: report() ? JSON.parse(report()) : undefined }),
    ),
  );
}

beforeAll(async () => {
  // CommonJS, as the real build: a package a command imports in its action loads only then.
  await build({ entryPoints: [path.join(root, "src", "cli", "run.ts")], bundle: true, platform: "node", format: "cjs", target: `node${process.versions.node.split(".")[0]}`, packages: "external", outfile: bundle, logLevel: "silent" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("commander's output without stdio streams", () => {
  it("--help to a file: the usage, exit 0, and no stream made", async () => {
    const file = path.join(dir, "help.txt");
    const run = await runBundled(["--help"], { stdoutFile: file });
    expect(run.stdout).toMatch(/^Usage: synkti <command> \[options\]\n[\s\S]*\n {2}upload [\s\S]*Exit codes: /);
    expect({ code: run.code, stderr: run.stderr, report: run.report }).toEqual({ code: 0, stderr: "", report: { code: 0, streams: [] } });
  });

  it("--help to a pipe: the same text, and no stream made", async () => {
    const file = path.join(dir, "help-file.txt");
    const toFile = await runBundled(["--help"], { stdoutFile: file });
    const toPipe = await runBundled(["--help"]);
    expect(toPipe.stdout).toBe(toFile.stdout);
    expect(toPipe.report).toEqual({ code: 0, streams: [] });
  });

  it("an unknown command: the error on stderr, exit 2, and no stream made", async () => {
    const run = await runBundled(["statsu"]);
    expect(run.stderr).toContain("error: unknown command 'statsu' (did you mean status?)");
    expect(run.stdout).toBe("");
    expect(run.report).toEqual({ code: 2, streams: [] });
  });

  it("a reader that closed its pipe first (synkti --help | true) is no error: exit 0, nothing on stderr", async () => {
    const run = await runBundled(["--help"], { closeStdoutAtOnce: true });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  });
});
