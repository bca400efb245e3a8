import type { ChildProcess, SpawnOptions } from "node:child_process";
import { createInterface } from "node:readline";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { asUser, type RunAs } from "./run-as.js";

/** How a process is started; node's `spawn` in production, a fake in unit tests. */
export type Spawner = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
/** How a signal reaches a process group; `process.kill` in production. */
export type Killer = (pid: number, signal: NodeJS.Signals) => void;

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** When it exited (clock time). */
  at: number;
  /** Set when the process could not even start (e.g. ENOENT). */
  error?: string;
}

export interface ProcessGroup {
  readonly pid: number | undefined;
  /** Resolves once the leader has exited (or failed to start); never rejects. */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves with the leader's exit. */
  stop(graceMs: number): Promise<ExitInfo>;
}

/**
 * A successful probe's access-log line (uvicorn's `127.0.0.1:52430 - "GET /health HTTP/1.1" 200 OK`,
 * behind vLLM's `(APIServer pid=1) INFO:` prefix): the agent asks /health every 2 s and /metrics for
 * every /status answer, so at info level an idle worker would log hundreds of these an hour and hide
 * what changed. They stay at debug; a failing probe (503 from a dead engine) and everything else
 * the model server says stay at info. (vLLM >= 0.16 can drop them itself with
 * --disable-access-log-for-endpoints; older versions would refuse that flag, so the agent filters.)
 */
const PROBE_OK = /"(?:GET|HEAD) \/(?:health|metrics|ping)(?:\?[^"\s]*)? HTTP\/[\d.]+" 2\d\d\b/;

export function outputLineLevel(line: string): "debug" | "info" {
  return PROBE_OK.test(line) ? "debug" : "info";
}

/**
 * One function owns the model server's process (Playwright's pattern): its own process group
 * (`detached`), so a signal reaches vLLM's engine-core children too, which hold the GPU; output
 * logged line by line through a child logger (`redact` first: it may print a secret it was given); graceful stop, then SIGKILL of the group. Whenever
 * the leader exits, leftovers in the group are killed: an orphaned engine process would keep the
 * GPU memory and make the restart fail.
 */
export function startProcessGroup(
  deps: { spawn: Spawner; kill?: Killer; clock: Clock; log: Logger; redact?: (line: string) => string; runAs?: RunAs },
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ProcessGroup {
  const kill = deps.kill ?? ((pid, signal) => process.kill(pid, signal));
  const [command, ...args] = argv;
  if (command === undefined) throw new Error("startProcessGroup: empty argv");
  // As the model server's own user when there is one (run-as.ts): it never holds the instance role.
  const as = asUser(deps.runAs, env);
  const child = deps.spawn(command, args, { env: as.env, ...as.ids, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const log = deps.log.child({ component: "model-server", pid: child.pid });
  for (const [name, stream] of [["stdout", child.stdout], ["stderr", child.stderr]] as const) {
    if (!stream) continue;
    const redact = deps.redact ?? ((line: string) => line);
    createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => log[outputLineLevel(line)]({ stream: name }, redact(line)));
  }

  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone
    }
  };
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => {
      signalGroup("SIGKILL"); // leftovers of the group (engine workers), never the agent itself
      resolve({ code, signal, at: deps.clock.now() });
    });
    child.once("error", (error) => {
      // A failed spawn emits no "exit"; a later error on a running child is followed by "exit".
      if (child.pid === undefined) resolve({ code: null, signal: null, at: deps.clock.now(), error: error.message });
    });
  });
  let exitInfo: ExitInfo | undefined;
  void exited.then((info) => (exitInfo = info));

  let stopping: Promise<ExitInfo> | undefined;
  const stop = (graceMs: number) =>
    (stopping ??= (async () => {
      if (exitInfo) return exitInfo;
      log.info({ graceMs }, "stopping the model server: SIGTERM to its process group");
      signalGroup("SIGTERM");
      const timer = new AbortController();
      const escalate = deps.clock.sleep(graceMs, timer.signal).then(
        () => {
          log.warn({ graceMs }, "the model server ignored SIGTERM; SIGKILL to its process group");
          signalGroup("SIGKILL");
        },
        () => {},
      );
      const info = await exited;
      timer.abort();
      await escalate;
      return info;
    })());

  return { pid: child.pid, exited, stop };
}
