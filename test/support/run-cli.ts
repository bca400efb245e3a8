/**
 * Runs the built binary `dist/synkti` for end-to-end tests.
 *
 * Behaviour spec:
 * - `runCli(args, { env, timeoutMs })` spawns dist/synkti with `args` and resolves with its exit
 *   `code` (null if killed), `stdout`, `stderr`, `durationMs` and `timedOut`. It never rejects for
 *   what the binary does; a run past `timeoutMs` (default 20 s) is killed (SIGKILL) and reported
 *   as timedOut, so a hang fails the test instead of the suite.
 * - dist/synkti missing: it throws, telling to run `npm run build` (vitest's globalSetup builds it
 *   when missing or stale).
 * - Environment: the test runner's environment plus `env` (a value of `undefined` removes a
 *   variable). Two guards keep the binary off the real world: AWS_EC2_METADATA_SERVICE_ENDPOINT
 *   defaults to a closed loopback port and must be loopback; SYNKTI_SYSFS_ROOT defaults to an empty
 *   folder, so a CI runner that is itself an EC2 instance does not read its own DMI. AWS_ENDPOINT_URL,
 *   when set, must be loopback too.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const BINARY = path.resolve(import.meta.dirname, "..", "..", "dist", "synkti");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export interface RunCliOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** The working folder of the run (default: the test's). */
  cwd?: string;
}

let emptySysfs: string | undefined;
/** An empty folder used as sysfs root: "no DMI here". Created once per test process. */
export function emptySysfsRoot(): string {
  emptySysfs ??= mkdtempSync(path.join(tmpdir(), "synkti-e2e-sysfs-"));
  return emptySysfs;
}

const LOOPBACK_URL = /^https?:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d+)?(\/|$)/;

function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? "http://127.0.0.1:9",
    SYNKTI_SYSFS_ROOT: emptySysfsRoot(),
    ...extra,
  };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  for (const key of ["AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ENDPOINT_URL"]) {
    const value = env[key];
    if (key === "AWS_EC2_METADATA_SERVICE_ENDPOINT" && value === undefined) {
      throw new Error("runCli: AWS_EC2_METADATA_SERVICE_ENDPOINT must stay set (to loopback) in e2e tests");
    }
    if (value !== undefined && !LOOPBACK_URL.test(value)) {
      throw new Error(`runCli: ${key}=${value} is not a loopback URL; e2e tests talk only to 127.0.0.0/8`);
    }
  }
  return env;
}

export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  if (!existsSync(BINARY)) {
    throw new Error(`${BINARY} does not exist: run \`npm run build\` first (vitest's globalSetup does it when it can).`);
  }
  const env = childEnv(options.env ?? {});
  const timeoutMs = options.timeoutMs ?? 20_000;
  const started = Date.now();
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(BINARY, args, { env, stdio: ["ignore", "pipe", "pipe"], ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, durationMs: Date.now() - started, timedOut });
    });
  });
}
