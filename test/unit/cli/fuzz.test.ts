import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CommanderError, type Command } from "commander";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { checkEnvironment, ENVIRONMENT } from "../../../src/cli/environment.js";
import { buildProgram, registerCommands } from "../../../src/cli/program.js";
import { SynktiError } from "../../../src/core/errors.js";
import { checkBinary } from "../../../src/deployer/upload/binary-file.js";
import { listLocalFiles } from "../../../src/deployer/upload/local-files.js";
import { argvArbitrary, envArbitrary, makeFixtures } from "../../support/cli-fuzz.js";
import { fakeBuild } from "../../support/fake-elf.js";

/**
 * Property tests of the CLI's inputs, in process (fast): the real command tree with every action
 * replaced by a recorder, so what is judged is parsing and validation; the environment check; the
 * binary and weights-folder readers on arbitrary files. The built binary's own runs are in
 * test/e2e/fuzz.test.ts; a longer run is `npm run bench` (scripts/bench/fuzz.ts).
 * A failure prints fast-check's seed and the shrunk counterexample: re-run with that seed.
 */
const dir = mkdtempSync(path.join(tmpdir(), "synkti-fuzz-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = makeFixtures(path.join(dir, "fixtures"));
const RUNS = Number(process.env.SYNKTI_FUZZ_RUNS ?? 300);

interface Parsed {
  outcome: "action" | "commander";
  exitCode: number;
  options: Record<string, unknown>;
  output: string;
}

/** Parses argv with the real program; actions only record their options (nothing runs). */
async function parseOnly(argv: string[]): Promise<Parsed> {
  let output = "";
  const program = buildProgram();
  program.configureOutput({ writeOut: (s) => void (output += s), writeErr: (s) => void (output += s) });
  registerCommands(program);
  let options: Record<string, unknown> | undefined;
  const record = (command: Command) => {
    const handler = (command as unknown as { _actionHandler?: unknown })._actionHandler;
    if (handler && command.name() !== "help") command.action((...args: unknown[]) => void (options = (args.at(-1) as Command).opts()));
    command.commands.forEach(record);
  };
  record(program);
  try {
    await program.parseAsync(["node", "synkti", ...argv]);
    return { outcome: "action", exitCode: 0, options: options ?? {}, output };
  } catch (error) {
    if (error instanceof CommanderError) return { outcome: "commander", exitCode: error.exitCode, options: {}, output };
    throw error;
  }
}

/** The value the last `--flag v`, `--flag=v` or `-f v` gave. */
function lastValue(argv: string[], flags: string[]): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    for (const flag of flags) {
      if (arg === flag && i + 1 < argv.length) value = argv[i + 1];
      else if (flag.startsWith("--") && arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
    }
  });
  return value;
}

const STACK = /\n\s+at .+:\d+:\d+\)?$/m;

describe("property: any command line parses or is refused as usage (in process)", () => {
  it("never throws anything but commander's own usage errors, never prints a stack", async () => {
    await fc.assert(
      fc.asyncProperty(argvArbitrary(fixtures, { forBinary: false }), async (argv) => {
        const parsed = await parseOnly(argv);
        expect(parsed.output).not.toMatch(STACK);
        if (parsed.outcome === "commander") expect(parsed.output.length + parsed.exitCode).toBeGreaterThan(0); // said something, or help/version
      }),
      { numRuns: RUNS },
    );
  });

  it("a count that parses was written in plain decimal digits and is in range", async () => {
    const counts: Array<[string, string[], number]> = [
      ["workers", ["--workers", "-w"], 100],
      ["concurrency", ["--concurrency", "-c"], 64],
    ];
    await fc.assert(
      fc.asyncProperty(argvArbitrary(fixtures, { forBinary: false }), async (argv) => {
        const parsed = await parseOnly(argv);
        if (parsed.outcome !== "action") return;
        for (const [key, flags, max] of counts) {
          const raw = lastValue(argv, flags);
          if (raw === undefined || parsed.options[key] === undefined) continue;
          expect(raw).toMatch(/^[0-9]+$/);
          expect(parsed.options[key]).toBe(Number(raw));
          expect(Number(raw)).toBeGreaterThanOrEqual(1);
          expect(Number(raw)).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("property: the environment check (in process)", () => {
  it("accepts a value or refuses it as usage, naming the variable, in printable words", () => {
    fc.assert(
      fc.property(envArbitrary(ENVIRONMENT, false), (env) => {
        try {
          checkEnvironment(env);
        } catch (error) {
          expect(error).toBeInstanceOf(SynktiError);
          const e = error as SynktiError;
          expect(e.kind).toBe("usage");
          expect(Object.keys(env).some((name) => e.message.includes(name))).toBe(true);
          expect(e.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
          expect(e.remedy).toBeTruthy();
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

describe("property: the binary check on arbitrary files (in process)", () => {
  const asFile = (bytes: Uint8Array) => {
    const file = path.join(dir, `bin-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, bytes);
    return file;
  };
  const outcome = async (file: string) => {
    try {
      return await checkBinary(file);
    } catch (error) {
      expect(error).toBeInstanceOf(SynktiError);
      expect((error as SynktiError).kind).toBe("usage");
      return undefined;
    } finally {
      rmSync(file, { force: true });
    }
  };

  it("a valid build with bytes of its headers changed is read or refused as usage, never a crash", async () => {
    const build = fakeBuild({ version: "3.2.1", size: 4096 });
    const edits = fc.array(fc.tuple(fc.integer({ min: 0, max: 119 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(edits, async (changes) => {
        const bytes = Buffer.from(build);
        for (const [at, value] of changes) bytes[at] = value;
        const result = await outcome(asFile(bytes));
        if (result) expect(result.version).toBe("3.2.1");
      }),
      { numRuns: RUNS },
    );
  });

  it("arbitrary bytes, with or without an ELF magic in front, are refused as usage", async () => {
    const bytes = fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 600 })).map(([elf, rest]) => (elf ? Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01", "latin1"), rest]) : Buffer.from(rest)));
    await fc.assert(fc.asyncProperty(bytes, async (b) => {
          expect(await outcome(asFile(b))).toBeUndefined();
        }), { numRuns: RUNS });
  });
});

describe("property: a weights folder with arbitrary links (in process)", () => {
  type Entry = { name: string; kind: "file" | "dir" | "link-in" | "link-out" | "link-up" | "dangling" };
  const entries = fc.uniqueArray(
    fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), kind: fc.constantFrom<Entry["kind"]>("file", "dir", "link-in", "link-out", "link-up", "dangling") }),
    { maxLength: 8, selector: (e) => e.name },
  );
  let n = 0;

  it("lists only regular files whose real path is inside the folder", async () => {
    const outside = path.join(dir, "outside-secret");
    writeFileSync(outside, "secret");
    await fc.assert(
      fc.asyncProperty(entries, async (list) => {
        const root = path.join(dir, `tree-${n++}`);
        mkdirSync(path.join(root, "sub"), { recursive: true });
        writeFileSync(path.join(root, "sub", "real.bin"), "x");
        for (const { name, kind } of list) {
          const at = path.join(root, name);
          if (kind === "file") writeFileSync(at, name);
          else if (kind === "dir") mkdirSync(at);
          else if (kind === "link-in") symlinkSync("sub/real.bin", at);
          else if (kind === "link-out") symlinkSync(outside, at);
          else if (kind === "link-up") symlinkSync("..", at);
          else symlinkSync(path.join(root, "nothing-here"), at);
        }
        const real = realpathSync(root);
        const listing = await listLocalFiles(root);
        for (const file of listing.files) {
          expect(file.absolutePath.startsWith(`${real}${path.sep}`)).toBe(true);
          expect((await lstat(file.absolutePath)).isFile()).toBe(true);
        }
        expect(listing.files.some((f) => f.absolutePath === outside)).toBe(false);
        expect(listing.skipped.every((s) => s.reason.length > 0)).toBe(true);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
