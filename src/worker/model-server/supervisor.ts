import type { Clock } from "../../core/clock.js";
import type { ModelServerState, ModelServerStatus } from "../../cluster/status-document.js";
import type { Logger } from "../../core/log.js";
import { startProcessGroup, type ExitInfo, type Killer, type ProcessGroup, type Spawner } from "./process-group.js";
import type { ModelServerProbes } from "./probes.js";
import type { RunAs } from "./run-as.js";
import { DEFAULT_RESTART_POLICY, pruneCrashes, restartDecision, type RestartPolicy } from "./restart-policy.js";

export interface SupervisorConfig {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** A 70B model can take many minutes to load; only then does /health answer 200. */
  readyTimeoutMs: number;
  /** How often /health is asked during start-up. */
  startPollMs: number;
  /** How often /health is asked once healthy. */
  healthIntervalMs: number;
  /** Consecutive failed probes before "unhealthy" (one slow answer under load is not a failure). */
  unhealthyAfterFailures: number;
  /** Unhealthy this long (alive but not answering: hung, or engine dead) counts as a crash. */
  restartUnhealthyAfterMs: number;
  stopGraceMs: number;
  policy: RestartPolicy;
}

export const DEFAULT_SUPERVISOR_CONFIG: Omit<SupervisorConfig, "argv" | "env"> = {
  readyTimeoutMs: 20 * 60_000,
  startPollMs: 1000,
  healthIntervalMs: 2000,
  unhealthyAfterFailures: 3,
  restartUnhealthyAfterMs: 60_000,
  stopGraceMs: 30_000,
  policy: DEFAULT_RESTART_POLICY,
};

export type SupervisorOutcome = { kind: "stopped" } | { kind: "gave-up"; reason: string };

export interface SupervisorDeps {
  clock: Clock;
  log: Logger;
  spawn: Spawner;
  kill?: Killer;
  probes: ModelServerProbes;
  /** Applied to every line the model server prints before it is logged (secrets it was given). */
  redact?: (line: string) => string;
  /** Told every state change (the agent publishes its own state from it); must not throw. */
  onChange?: (status: ModelServerStatus) => void;
  /** The model server's own user (run-as.ts); absent: the agent's user. */
  runAs?: RunAs;
}

type Ending = { kind: "abort" } | { kind: "exit"; info: ExitInfo } | { kind: "health"; reason: string };

/**
 * Keeps the model server alive: start, wait for /health, watch it, restart it on a crash with
 * exponential backoff, and give up (state "failed", outcome "gave-up") when the restart policy says
 * so; the caller decides what giving up means (the agent terminates its instance). Aborting the
 * signal stops the server gracefully (SIGTERM to its group, SIGKILL after the grace period).
 */
export class ModelServerSupervisor {
  private current: ModelServerStatus;
  /** Whether the process being watched has answered /health at least once. */
  private becameHealthy = false;
  /** Set once the worker is stopping: an exit from now on is the end, never a crash to restart. */
  private lastRun = false;

  constructor(
    private readonly deps: SupervisorDeps,
    private readonly config: SupervisorConfig,
  ) {
    this.current = { state: "starting", restarts: 0, since: new Date(deps.clock.now()).toISOString() };
  }

  status(): ModelServerStatus {
    return { ...this.current };
  }

  /**
   * The worker is stopping (draining before it stops the server itself): if the server exits now,
   * e.g. on the OS shutdown's own SIGTERM, that is the end. Restarting it would start a model load
   * on a machine about to go, and race the drain.
   */
  noMoreRestarts(): void {
    this.lastRun = true;
  }

  async run(signal: AbortSignal): Promise<SupervisorOutcome> {
    let crashes: number[] = [];
    let neverReady = 0;
    for (;;) {
      if (signal.aborted) return { kind: "stopped" };
      const proc = startProcessGroup(this.deps, this.config.argv, this.config.env);
      this.set("starting", { pid: proc.pid });
      this.becameHealthy = false;
      const failure = await this.watch(proc, signal);
      if (failure === undefined) return { kind: "stopped" };
      if (this.lastRun) {
        this.deps.log.info({ exit: failure }, "model server ended while the worker stops; not restarting it");
        this.set("stopped", { pid: undefined }); // /status must not go on saying healthy
        return { kind: "stopped" };
      }
      const now = this.deps.clock.now();
      crashes = pruneCrashes([...crashes, now], now, this.config.policy);
      neverReady = this.becameHealthy ? 0 : neverReady + 1;
      const decision = restartDecision(crashes, now, this.config.policy, neverReady);
      if (decision.action === "give-up") {
        const reason = `the model server could not be kept alive: ${decision.reason} (last: ${failure})`;
        this.set("failed", { failure: reason, pid: undefined });
        return { kind: "gave-up", reason };
      }
      this.current.restarts += 1;
      this.set("restarting", { pid: undefined });
      this.deps.log.warn({ failure, delayMs: decision.delayMs, recentCrashes: decision.recentCrashes }, "model server failed; restarting after backoff");
      try {
        await this.deps.clock.sleep(decision.delayMs, signal);
      } catch {
        return { kind: "stopped" };
      }
    }
  }

  /** Runs one process to its end; returns why it failed, or undefined when stopped on purpose. */
  private async watch(proc: ProcessGroup, signal: AbortSignal): Promise<string | undefined> {
    const phase = new AbortController();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<Ending>((resolve) => {
      onAbort = () => resolve({ kind: "abort" });
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    const exit = proc.exited.then((info): Ending => ({ kind: "exit", info }));
    const health = this.healthLoop(phase.signal).then(
      (reason): Ending => ({ kind: "health", reason }),
      () => new Promise<Ending>(() => {}), // aborted: another ending already won
    );
    const ending = await Promise.race([aborted, exit, health]);
    phase.abort();
    if (onAbort) signal.removeEventListener("abort", onAbort);

    if (ending.kind === "abort") {
      await proc.stop(this.config.stopGraceMs);
      this.set("stopped", { pid: undefined });
      return undefined;
    }
    const reason = ending.kind === "exit" ? describeExit(ending.info) : ending.reason;
    const info = ending.kind === "exit" ? ending.info : await proc.stop(this.config.stopGraceMs);
    this.current.lastExit = { code: info.code, signal: info.signal, at: new Date(info.at).toISOString(), reason };
    return reason;
  }

  /** Resolves with a failure reason (never ready, or unhealthy too long); rejects when aborted. */
  private async healthLoop(signal: AbortSignal): Promise<string> {
    const { clock } = this.deps;
    const { config } = this;
    const deadline = clock.now() + config.readyTimeoutMs;
    while (!(await this.deps.probes.healthy(signal))) {
      signal.throwIfAborted();
      if (clock.now() >= deadline) return `not healthy within ${Math.round(config.readyTimeoutMs / 1000)} s of its start`;
      await clock.sleep(Math.min(config.startPollMs, Math.max(1, deadline - clock.now())), signal);
    }
    signal.throwIfAborted();
    this.becameHealthy = true;
    this.set("healthy");
    let failures = 0;
    let unhealthySince: number | undefined;
    for (;;) {
      await clock.sleep(config.healthIntervalMs, signal);
      if (await this.deps.probes.healthy(signal)) {
        signal.throwIfAborted();
        failures = 0;
        unhealthySince = undefined;
        if (this.current.state !== "healthy") this.set("healthy");
        continue;
      }
      signal.throwIfAborted();
      failures += 1;
      if (failures < config.unhealthyAfterFailures) continue;
      if (unhealthySince === undefined) {
        unhealthySince = clock.now();
        this.set("unhealthy");
      }
      const unhealthyMs = clock.now() - unhealthySince;
      if (unhealthyMs >= config.restartUnhealthyAfterMs) return `alive but unhealthy for ${Math.round(unhealthyMs / 1000)} s`;
    }
  }

  private set(state: ModelServerState, extra: Partial<ModelServerStatus> = {}): void {
    const previous = this.current.state;
    this.current = { ...this.current, ...extra, state, since: new Date(this.deps.clock.now()).toISOString() };
    if ("pid" in extra && extra.pid === undefined) delete this.current.pid;
    const level = state === "failed" ? "error" : state === "unhealthy" ? "warn" : "info";
    this.deps.log[level]({ from: previous, to: state, restarts: this.current.restarts, pid: this.current.pid }, `model server ${state}`);
    this.deps.onChange?.(this.status());
  }
}

function describeExit(info: ExitInfo): string {
  if (info.error) return `could not start: ${info.error}`;
  if (info.signal) return `killed by ${info.signal}`;
  return `exited with code ${info.code}`;
}
