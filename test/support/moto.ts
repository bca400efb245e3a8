/**
 * One `moto_server` (the AWS stand-in) per caller, on a free 127.0.0.1 port.
 *
 * Behaviour spec:
 * - `startMoto(options?)` finds `moto_server` on PATH (else throws MotoNotFound with the install
 *   command), spawns `moto_server -H 127.0.0.1 -p PORT` in its own process group, and resolves
 *   once `GET /moto-api/data.json` answers (deadline `readyTimeoutMs`, default 20 s). If the
 *   port was taken meanwhile it retries on another port; if moto exits early the error carries
 *   the tail of its output.
 * - The handle gives `url`/`port`, `reset()` (POST /moto-api/reset: all state gone),
 *   `resetAuth(n)` (POST /moto-api/reset-auth, text/plain body `n`: IAM enforcement starts after
 *   n more calls; 0 = now), and `stop()`: SIGTERM to the whole group, SIGKILL after 3 s,
 *   resolves once the process has exited (no zombies). `stop()` is idempotent and is also
 *   `[Symbol.asyncDispose]`, so tests write `await using moto = await startMoto()`.
 *   If the test process exits without stopping it, an exit hook SIGKILLs the group.
 * - `options.env` adds environment for moto (INITIAL_NO_AUTH_ACTION_COUNT,
 *   MOTO_ENABLE_AMI_VALIDATION, ...).
 * - `awsEnvFor(url)` is the environment a child process needs to talk to this moto only, and
 *   `sdkConfigFor(url)` the same as an SDK v3 client config for in-process clients.
 * Measured here (2 shared cores, moto 5.2.1): spawn to first answer 1.0-1.4 s idle, up to ~4 s
 * with the cores saturated; reset ~10 ms; stop ~0.2 s. So: one moto per test file (beforeAll, or `await using` in the test), and `reset()` or a
 * fresh name prefix per test; a vitest globalSetup sharing one moto across files would save ~1.3 s
 * a file but couple files through shared state and IAM-enforcement switches.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { freePort, LOOPBACK } from "./free-port.js";

export const MOTO_INSTALL_HINT = "moto_server not found on PATH; install it with: pip install 'moto[server]'";

export class MotoNotFound extends Error {
  constructor(detail?: string) {
    super(detail ? `${MOTO_INSTALL_HINT} (${detail})` : MOTO_INSTALL_HINT);
    this.name = "MotoNotFound";
  }
}

export interface MotoOptions {
  /** Extra environment for moto_server, on top of the caller's. */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Name or path of the executable; default `moto_server` from PATH. */
  command?: string;
}

export interface Moto extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawn to the first answer, for the record. */
  readonly startupMs: number;
  reset(): Promise<void>;
  resetAuth(initialNoAuthActionCount: number): Promise<void>;
  /** The last lines moto printed (its request log and errors). */
  output(): string;
  stop(): Promise<void>;
}

/** Like `command -v`: the executable's path on PATH, or undefined. */
export function findOnPath(command: string, envPath = process.env.PATH ?? ""): string | undefined {
  const candidates = command.includes("/") ? [command] : envPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

const OUTPUT_LINES = 200;

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // negative pid: the whole process group (pyenv shim + python)
  } catch {
    // already gone
  }
}

async function spawnOnce(executable: string, options: MotoOptions): Promise<Moto | "port-taken"> {
  const port = await freePort();
  const url = `http://${LOOPBACK}:${port}`;
  const started = Date.now();
  const child = spawn(executable, ["-H", LOOPBACK, "-p", String(port)], {
    env: { ...process.env, ...options.env },
    detached: true, // own process group, so stop() reaches python behind the pyenv shim too
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (lines.length > OUTPUT_LINES) lines.splice(0, lines.length - OUTPUT_LINES);
  };
  // Always drain both pipes: moto logs every request, and a full pipe would block it.
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const onProcessExit = () => killGroup(child, "SIGKILL");
  process.once("exit", onProcessExit);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
      killGroup(child, "SIGKILL"); // anything else left in the group
      process.off("exit", onProcessExit);
    })());

  const deadline = started + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    const failed = await Promise.race([
      spawnError,
      exited.then(() => "exited" as const),
      answers(url).then((ok) => (ok ? ("ready" as const) : undefined)),
    ]);
    if (failed === "ready") break;
    const output = lines.join("\n");
    if (failed instanceof Error) {
      // A failed spawn emits no "exit": nothing to stop, only the hook to drop.
      process.off("exit", onProcessExit);
      if ((failed as NodeJS.ErrnoException).code === "ENOENT") throw new MotoNotFound(failed.message);
      throw failed;
    }
    if (failed === "exited") {
      await stop();
      if (/address already in use/i.test(output)) return "port-taken";
      if (child.exitCode === 127 || /command not found/i.test(output)) throw new MotoNotFound(output.trim());
      throw new Error(`moto_server exited (code ${child.exitCode}) before answering:\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${url} within ${options.readyTimeoutMs ?? 20_000} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const startupMs = Date.now() - started;

  const post = async (apiPath: string, body?: string) => {
    const response = await fetch(`${url}${apiPath}`, {
      method: "POST",
      ...(body === undefined ? {} : { body, headers: { "content-type": "text/plain" } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`moto ${apiPath} answered ${response.status}: ${text}`);
  };

  return {
    url,
    port,
    pid: child.pid ?? -1,
    startupMs,
    reset: () => post("/moto-api/reset"),
    resetAuth: (count) => post("/moto-api/reset-auth", String(count)),
    output: () => lines.join("\n"),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

export async function startMoto(options: MotoOptions = {}): Promise<Moto> {
  const executable = findOnPath(options.command ?? "moto_server");
  if (executable === undefined) throw new MotoNotFound();
  for (let attempt = 0; attempt < 3; attempt++) {
    const moto = await spawnOnce(executable, options);
    if (moto !== "port-taken") return moto;
  }
  throw new Error("moto_server: every port tried was taken");
}

/** Credentials moto accepts (it checks nothing unless IAM enforcement is on). */
export const DUMMY_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" } as const;

export interface AwsEnvOptions {
  region?: string;
  /** Where the SDK looks for instance metadata; default a closed loopback port (never 169.254.169.254). */
  metadataEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Environment for a child process (the synkti binary, the aws CLI) to use this endpoint only.
 * 127.0.0.1:9 (discard) has no listener on these machines, so IMDS lookups fail fast.
 */
export function awsEnvFor(url: string, options: AwsEnvOptions = {}): Record<string, string> {
  const region = options.region ?? "us-east-1";
  const credentials = options.credentials ?? DUMMY_CREDENTIALS;
  return {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: options.metadataEndpoint ?? `http://${LOOPBACK}:9`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}

/** The same as an SDK v3 client config, for clients built inside a test. */
export function sdkConfigFor(url: string, options: Omit<AwsEnvOptions, "metadataEndpoint"> = {}) {
  return {
    endpoint: url,
    region: options.region ?? "us-east-1",
    credentials: { ...(options.credentials ?? DUMMY_CREDENTIALS) },
    forcePathStyle: true, // moto (and the proxy) cannot route virtual-hosted bucket names
  };
}
