/**
 * Runs the built binary on generated hostile command lines and environments, and judges each run.
 * Used by test/e2e/fuzz.test.ts (about 50 runs, in CI) and scripts/bench/fuzz.ts (a longer run).
 *
 * Behaviour spec:
 * - `fuzzBinary({ runs, seed, parallel, deadlineMs })` draws `runs` cases (argv + environment,
 *   cli-fuzz.ts) from `seed`, runs them `parallel` at a time, each with its own empty HOME,
 *   TMPDIR and working folder, AWS pointed at a closed loopback port (nothing answers: every AWS
 *   command ends at its first call) and the AWS config files inside that HOME.
 * - A run is a violation when it: passes `deadlineMs` (killed), exits 4 or by a signal, prints a
 *   stack trace without --debug, says "This is a bug", or leaves any file changed, added or removed
 *   in its HOME, TMPDIR, working folder or the shared fixtures (the only places it may touch are
 *   none: no command of these writes a local file).
 * - It returns every case's exit code and duration, and the violations with their argv and env.
 */
import { mkdirSync, mkdtempSync, readdirSync, lstatSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { ENVIRONMENT } from "../../src/cli/environment.js";
import { argvArbitrary, envArbitrary, makeFixtures } from "./cli-fuzz.js";
import { closedPort } from "./free-port.js";
import { runCli } from "./run-cli.js";

/** Variables the fuzz leaves alone: they would point the binary off loopback or at this machine's DMI. */
const KEPT = new Set(["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "SYNKTI_SYSFS_ROOT"]);

export interface FuzzCase {
  argv: string[];
  env: Record<string, string>;
}

export interface FuzzRun extends FuzzCase {
  code: number | null;
  durationMs: number;
  problems: string[];
}

export interface FuzzReport {
  seed: number;
  runs: FuzzRun[];
  violations: FuzzRun[];
}

const STACK = /\n\s+at .+:\d+:\d+\)?$/m;

/** Every entry under `root`: path -> type, size and mtime, to compare before and after a run. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const at = path.join(dir, name);
      const info = lstatSync(at);
      out.set(at, `${info.isDirectory() ? "d" : info.isFile() ? "f" : info.isFIFO() ? "p" : "l"}:${info.isDirectory() ? 0 : info.size}:${info.mtimeMs}`);
      if (info.isDirectory()) walk(at);
    }
  };
  walk(root);
  return out;
}

function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [at, what] of after) if (before.get(at) !== what) out.push(`${before.has(at) ? "changed" : "added"} ${at}`);
  for (const at of before.keys()) if (!after.has(at)) out.push(`removed ${at}`);
  return out;
}

export async function fuzzBinary(options: { runs: number; seed?: number; parallel?: number; deadlineMs?: number }): Promise<FuzzReport> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const root = mkdtempSync(path.join(tmpdir(), "synkti-fuzz-bin-"));
  try {
    const fixtures = makeFixtures(path.join(root, "fixtures"));
    const variables = ENVIRONMENT.filter((v) => !KEPT.has(v.name));
    const cases: FuzzCase[] = fc.sample(
      fc.record({ argv: argvArbitrary(fixtures, { forBinary: true }), env: envArbitrary(variables, true) }),
      { numRuns: options.runs, seed },
    );
    const aws = `http://127.0.0.1:${await closedPort()}`;
    const fixturesBefore = snapshot(fixtures.folder);
    const runs: FuzzRun[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const index = next++;
        runs[index] = await runOne(cases[index]!, path.join(root, `run-${index}`), aws, options.deadlineMs ?? 20_000);
      }
    };
    await Promise.all(Array.from({ length: options.parallel ?? 3 }, worker));
    const fixtureChanges = changes(fixturesBefore, snapshot(fixtures.folder));
    if (fixtureChanges.length > 0) runs[0]!.problems.push(`fixtures changed (some run): ${fixtureChanges.join(", ")}`);
    return { seed, runs, violations: runs.filter((r) => r.problems.length > 0) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function runOne(fuzz: FuzzCase, dir: string, aws: string, deadlineMs: number): Promise<FuzzRun> {
  const places = ["home", "tmp", "cwd"].map((p) => path.join(dir, p));
  for (const place of places) mkdirSync(place, { recursive: true });
  const [home, tmp, cwd] = places as [string, string, string];
  const before = snapshot(dir);
  const run = await runCli(fuzz.argv, {
    cwd,
    timeoutMs: deadlineMs,
    env: {
      HOME: home,
      TMPDIR: tmp,
      AWS_ENDPOINT_URL: aws,
      AWS_CONFIG_FILE: path.join(home, ".aws", "config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, ".aws", "credentials"),
      SYNKTI_AWS_TIMEOUT_MS: "1000",
      // Credentials that go nowhere (the endpoint is closed): the AWS commands reach their first call.
      AWS_ACCESS_KEY_ID: "fuzz",
      AWS_SECRET_ACCESS_KEY: "fuzz",
      AWS_REGION: "us-east-1",
      ...fuzz.env,
    },
  });
  const problems: string[] = [];
  if (run.timedOut) problems.push(`still running after ${deadlineMs} ms (killed)`);
  else if (run.code === null) problems.push("ended by a signal");
  else if (run.code === 4) problems.push("exit 4 (internal error)");
  else if (![0, 1, 2, 3, 130].includes(run.code)) problems.push(`exit ${run.code}, not in the contract`);
  if (!fuzz.argv.includes("--debug") && STACK.test(run.stderr)) problems.push("a stack trace without --debug");
  if (/This is a bug in synkti/.test(run.stderr)) problems.push("reported as a bug in synkti");
  const written = changes(before, snapshot(dir));
  if (written.length > 0) problems.push(`files written: ${written.join(", ")}`);
  if (problems.length > 0) problems.push(`stderr: ${run.stderr.slice(0, 600)}`);
  return { ...fuzz, code: run.code, durationMs: run.durationMs, problems };
}
