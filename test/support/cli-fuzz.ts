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
 * - `envArbitrary(variables)`: half the time none; else 1-3 of the given variables, each set to its
 *   example (a valid value), a near miss or arbitrary text.
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
  const files = [fixtures.build, fixtures.weights];
  const badFiles = [fixtures.fifo, "/", "/dev/null", "/dev/zero", "/proc/self/mem", fixtures.missing, fixtures.notElf, fixtures.folder, fixtures.linksOut];
  // Per flag: values it accepts, and near misses (what a typo or a script's bug gives).
  const domain: Record<string, [string[], string[]]> = {
    "--project-name": [["my-app", "demo", "a-b-c"], ["ab", "My-App", "a".repeat(41), "-app", "app-", "my_app"]],
    "--region": [["us-east-1", "eu-west-2"], ["us_east_1", "US-EAST-1", "moon-1"]],
    "--workers": [["1", "3", "100"], ["0", "101", "0x10", "1e2", "+3", " 5 ", "5.0", "-1"]],
    "--concurrency": [["1", "8", "64"], ["0", "65", "0x10", "1e1", " 4"]],
    "--wait-timeout": [["90s", "10m", "1h30m"], ["0s", "25h", "90", "1.5h"]],
    "--interval": [["2s", "1m"], ["0s", "2", "-2s"]],
    "--output": [["json", "text"], ["yaml", "JSON"]],
    "--model": [["tiny", "Qwen/Qwen2.5-7B-Instruct"], ["../etc", "a/b/c", ".hidden"]],
    "--file": [files, badFiles],
    "--from": [files, badFiles],
    "--version-label": [["9.9.9"], ["1.2.3", "latest", "v1"]],
    "--allow-cidr": [["203.0.113.0/24"], ["0.0.0.0/0", "10.0.0.0/33", "::/0", "1.2.3.4"]],
    "--revoke-cidr": [["203.0.113.0/24"], ["not-a-cidr"]],
    "--instance-type": [["g5.xlarge"], ["t2.micro", "x"]],
    "--instance-types": [["g5.xlarge,g6.xlarge"], [",", "g5.xlarge,,g5.xlarge"]],
    "--model-server-command": [["vllm serve {model_dir}"], ["a | b", "{nope}", "'"]],
    "--certificate-arn": [["arn:aws:acm:us-east-1:123456789012:certificate/abc"], ["arn", "x"]],
    "--ami": [["ami-0123456789abcdef0"], ["ami-", "x"]],
  };
  const [valid, near] = domain[name] ?? [["x"], [""]];
  return fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...valid) },
    { weight: 2, arbitrary: fc.constantFrom(...near) },
    { weight: 1, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 1, arbitrary: text(forBinary) },
  );
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
    const withRequired = fc.tuple(picked, fc.integer({ min: 0, max: 9 })).map(([some, dice]) => [some, dice > 0] as const).map(([some, addRequired]) =>
      addRequired ? [...new Set([...usable.filter((o) => o.mandatory), ...some])] : some,
    );
    return fc
      .tuple(
        withRequired.chain((opts) => (opts.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...opts.map((o) => optionArgs(o, fixtures, options.forBinary))))),
        fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom("stray", "statsu", "--nope", "-x", "--", "help"), text(options.forBinary)) }),
      )
      .chain(([args, extra]) => fc.shuffledSubarray(args, { minLength: args.length, maxLength: args.length }).map((shuffled) => [...command.path, ...shuffled.flat(), ...(extra === null ? [] : [extra])]));
  });
}

export function envArbitrary(variables: ReadonlyArray<{ name: string; example: string }>, forBinary: boolean): fc.Arbitrary<Record<string, string>> {
  const setting = fc.constantFrom(...variables).chain((v) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(v.example) },
      { weight: 1, arbitrary: fc.constantFrom(...NASTY) },
      { weight: 1, arbitrary: text(forBinary) },
    ).map((value) => [v.name, value] as const),
  );
  const some = fc.uniqueArray(setting, { minLength: 1, maxLength: 3, selector: ([name]) => name }).map((pairs) => Object.fromEntries(pairs));
  // Half the cases keep a clean environment, so the command line's own handling is reached.
  return fc.oneof(fc.constant({}), some);
}
