/**
 * Generators of hostile command lines and environments for the CLI's property tests
 * (test/unit/cli/fuzz.test.ts in process, test/e2e/fuzz.test.ts and scripts/bench/fuzz.ts with the
 * built binary).
 *
 * Behaviour spec:
 * - `commandTree()` reads the real program (buildProgram + registerCommands): every command path
 *   and its options, so a new command or option is fuzzed without touching this file.
 * - `argvArbitrary(fixtures, options)` builds argv arrays: a command path (sometimes a typo or
 *   none), a shuffled mix of its options (long, short or `--flag=value`), each value drawn from the
 *   flag's own domain (valid values, near misses like `0x10`, `1e2`, ` 5 `, and arbitrary text),
 *   sometimes a stray argument, an unknown flag, or a required option left out. File options take
 *   one of the fixtures (a FIFO, `/`, a device, a missing path, a fake build, a folder of links
 *   out). `forBinary`: no NUL (argv cannot carry one), no `--watch` (it runs until Ctrl-C by
 *   design). Values never start with `-` unless given with `=`, so the shape stays an option's.
 * - `envArbitrary(names)`: 0-3 of the given variables set to hostile values.
 * - `makeFixtures(dir)` creates those files under `dir` (Linux: mkfifo).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import fc from "fast-check";
import { buildProgram, registerCommands } from "../../src/cli/program.js";
import { fakeBuild } from "./fake-elf.js";

export interface FuzzOption {
  flags: string;
  long: string | undefined;
  short: string | undefined;
  takesValue: boolean;
  mandatory: boolean;
}

export interface FuzzCommand {
  path: string[];
  options: FuzzOption[];
}

export function commandTree(): FuzzCommand[] {
  const program = buildProgram();
  registerCommands(program);
  const out: FuzzCommand[] = [];
  const walk = (command: Command, at: string[]) => {
    out.push({
      path: at,
      options: command.options.map((o) => ({ flags: o.flags, long: o.long, short: o.short, takesValue: o.required || o.optional, mandatory: o.mandatory })),
    });
    for (const sub of command.commands) walk(sub, [...at, sub.name()]);
  };
  walk(program, []);
  return out;
}

export interface Fixtures {
  fifo: string;
  folder: string;
  build: string;
  notElf: string;
  linksOut: string;
  weights: string;
  missing: string;
}

export function makeFixtures(dir: string): Fixtures {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  execFileSync("mkfifo", [f("fifo")]);
  writeFileSync(f("build"), fakeBuild({ version: "9.9.9" }));
  writeFileSync(f("not-elf"), "#!/bin/sh\necho hello\n");
  mkdirSync(f("links-out"));
  symlinkSync("/etc", path.join(f("links-out"), "etc"));
  symlinkSync("/proc/self/environ", path.join(f("links-out"), "environ"));
  mkdirSync(f("weights"));
  writeFileSync(path.join(f("weights"), "config.json"), "{}");
  symlinkSync("/etc/passwd", path.join(f("weights"), "passwd"));
  return { fifo: f("fifo"), folder: dir, build: f("build"), notElf: f("not-elf"), linksOut: f("links-out"), weights: f("weights"), missing: f("missing") };
}

/** Near misses every numeric or named flag has met in review, plus shell-ish and unicode trouble. */
const NASTY = ["", " ", "0", "-1", "0x10", "1e2", "+3", " 5 ", "5.0", "1_000", "99999999999999999999", "NaN", "Infinity", "null", "../../etc/passwd", "$(id)", "`id`", "a;b", "\u202e", "ｍｙ-app", "\u001b[31m", "%s%n", "{}", "{model_dir}", "é".repeat(300)];

/** Arbitrary text; `forBinary` leaves out NUL (not representable in argv or the environment). */
function text(forBinary: boolean): fc.Arbitrary<string> {
  const any = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), fc.string({ minLength: 200, maxLength: 2000 }));
  return forBinary ? any.map((s) => s.replaceAll("\0", "")) : any;
}

function valueFor(option: FuzzOption, fixtures: Fixtures, forBinary: boolean): fc.Arbitrary<string> {
  const name = option.long ?? option.short ?? "";
  const nasty = fc.constantFrom(...NASTY);
  const files = fc.constantFrom(fixtures.fifo, "/", "/dev/null", "/dev/zero", "/proc/self/mem", fixtures.missing, fixtures.build, fixtures.notElf, fixtures.folder, fixtures.linksOut, fixtures.weights);
  const domain: Record<string, fc.Arbitrary<string>> = {
    "--project-name": fc.constantFrom("my-app", "demo", "ab", "My-App", "a".repeat(41), "-app", "app-"),
    "--region": fc.constantFrom("us-east-1", "eu-west-2", "us_east_1", "US-EAST-1", "moon-1"),
    "--workers": fc.oneof(fc.integer({ min: -5, max: 120 }).map(String), nasty),
    "--concurrency": fc.oneof(fc.integer({ min: -5, max: 80 }).map(String), nasty),
    "--wait-timeout": fc.constantFrom("90s", "10m", "1h30m", "0s", "25h", "90", "1.5h"),
    "--interval": fc.constantFrom("2s", "1m", "0s", "2", "-2s"),
    "--output": fc.constantFrom("json", "text", "yaml", "JSON"),
    "--model": fc.constantFrom("tiny", "Qwen/Qwen2.5-7B-Instruct", "../etc", "a/b/c", ".hidden"),
    "--file": files,
    "--from": files,
    "--version-label": fc.constantFrom("1.2.3", "9.9.9", "latest", "v1"),
    "--allow-cidr": fc.constantFrom("203.0.113.0/24", "0.0.0.0/0", "10.0.0.0/33", "::/0", "1.2.3.4"),
    "--revoke-cidr": fc.constantFrom("203.0.113.0/24", "not-a-cidr"),
    "--instance-type": fc.constantFrom("g5.xlarge", "t2.micro", "x"),
    "--instance-types": fc.constantFrom("g5.xlarge,g6.xlarge", ",", "g5.xlarge,,g5.xlarge"),
    "--model-server-command": fc.constantFrom("vllm serve {model_dir}", "a | b", "{nope}", "'"),
  };
  return fc.oneof({ weight: 3, arbitrary: domain[name] ?? nasty }, { weight: 1, arbitrary: nasty }, { weight: 1, arbitrary: text(forBinary) });
}

function optionArgs(option: FuzzOption, fixtures: Fixtures, forBinary: boolean): fc.Arbitrary<string[]> {
  const flag = fc.constantFrom(...[option.long, option.short].filter((f): f is string => f !== undefined));
  if (!option.takesValue) return flag.map((f) => [f]);
  return fc.tuple(flag, valueFor(option, fixtures, forBinary), fc.boolean()).map(([f, v, joined]) =>
    // A value starting with "-" would read as an option: give it with "=" (long flags only).
    joined || v.startsWith("-") ? (f.startsWith("--") ? [`${f}=${v}`] : [f, v.replace(/^-+/, "")]) : [f, v],
  );
}

export function argvArbitrary(fixtures: Fixtures, options: { forBinary: boolean }): fc.Arbitrary<string[]> {
  const commands = commandTree().filter((c) => !(options.forBinary && c.path[0] === "help" && c.path.length > 1));
  return fc.constantFrom(...commands).chain((command) => {
    const usable = command.options.filter((o) => !(options.forBinary && o.long === "--watch"));
    const picked = fc.subarray(usable, { minLength: 0, maxLength: Math.min(6, usable.length) });
    const withRequired = fc.tuple(picked, fc.boolean()).map(([some, addRequired]) =>
      addRequired ? [...new Set([...usable.filter((o) => o.mandatory), ...some])] : some,
    );
    return fc
      .tuple(
        withRequired.chain((opts) => (opts.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...opts.map((o) => optionArgs(o, fixtures, options.forBinary))))),
        fc.option(fc.oneof(fc.constantFrom("stray", "statsu", "--nope", "-x", "--", "help"), text(options.forBinary)), { freq: 5 }),
      )
      .chain(([args, extra]) => fc.shuffledSubarray(args, { minLength: args.length, maxLength: args.length }).map((shuffled) => [...command.path, ...shuffled.flat(), ...(extra === null ? [] : [extra])]));
  });
}

export function envArbitrary(names: readonly string[], forBinary: boolean): fc.Arbitrary<Record<string, string>> {
  const value = fc.oneof(fc.constantFrom(...NASTY, "debug", "true", "8080", "/tmp", "http://127.0.0.1:1", "us-east-1", "ab".repeat(32)), text(forBinary));
  return fc.uniqueArray(fc.tuple(fc.constantFrom(...names), value), { maxLength: 3, selector: ([name]) => name }).map((pairs) => Object.fromEntries(pairs));
}
