import path from "node:path";
import { usageError } from "../core/errors.js";
import { DEREGISTRATION_DELAY_SECONDS } from "../infra/load-balancer-settings.js";
import { MODEL_SERVER_PORT, STATUS_PORT } from "../infra/ports.js";
import { DEFAULT_DISCOVERY_OPTIONS } from "./discovery/discovery.js";
import type { DiscoveryBudget } from "./discovery/budget.js";
import { DEFAULT_WATCHER_OPTIONS } from "./interruption/watcher.js";
import { DEFAULT_MEMBER_OPTIONS, type MemberOptions } from "./load-balancer/member.js";
import { DEFAULT_MODEL_SERVER_COMMAND } from "./model-server/command-template.js";
import { DEFAULT_SUPERVISOR_CONFIG, type SupervisorConfig } from "./model-server/supervisor.js";

/** Everything the agent is told; `workerOptionsFromEnv` fills it from flags and the environment. */
export interface WorkerOptions {
  project: string;
  model: string | undefined;
  /** Template with {model_dir}, {model}, {host}, {port}. */
  modelServerCommand: string;
  modelsDir: string;
  /** Where the model server listens; default the instance's local-ipv4 (see README: bind address). */
  modelServerHost: string | undefined;
  modelServerPort: number;
  /** 0 picks a free port (tests); the published endpoint carries the real one. */
  statusPort: number;
  expectedSha256: string | undefined;
  /** SYNKTI_EXPECTED_MANIFEST_SHA256, set by user-data: the manifest it was launched with. */
  expectedManifestSha256: string | undefined;
  /** Never terminate this instance: prove the permission with DryRun instead (tests, rehearsals). */
  dryRun: boolean;
  /** Environment of the model server process. */
  env: NodeJS.ProcessEnv;
  supervisor: Omit<SupervisorConfig, "argv" | "env">;
  discovery: { budget: DiscoveryBudget; peerRoundMs: number; fanout: number; askTimeoutMs: number };
  interruption: { intervalMs: number; timeoutMs: number };
  /** After giving up, keep answering /status this long (peers and `synkti status` can read why). */
  failedLingerMs: number;
  /** A failed write of this worker's tags (endpoint, state, notice) or trace in S3 is retried this often. */
  tagRetryMs: number;
  /** The boot log user-data tees everything into (SYNKTI_BOOT_LOG): its tail goes to S3 on every change. */
  bootLog: string | undefined;
  /** When stopping or ending itself, how long the last state, record and log get to land. */
  shutdownFlushMs: number;
  /** The model server's auth check before joining the load balancer. */
  loadBalancer: MemberOptions;
  /**
   * On SIGTERM: in-flight requests are counted every `pollMs`; the drain lasts at most `maxMs` (the
   * target group's deregistration delay) and leaves the model server's stop grace and the last
   * flush inside `stopBudgetMs`, the time between SIGTERM and SIGKILL (systemd's default 90 s).
   */
  drain: { pollMs: number; maxMs: number; stopBudgetMs: number };
  /**
   * The failover on a spot notice or rebalance recommendation (src/failover). `stateDir` holds its
   * state file (SYNKTI_STATE_DIR, default `<models dir>/.synkti`: the root volume, so a restarted
   * agent resumes); `healthBudgetMs` is how long a replacement has from its launch to serve.
   */
  failover: { stateDir: string; healthBudgetMs: number; healthPollMs: number; throttleBackoffMs: number; failureMemoryMs: number };
  /**
   * Repair's timings (issue 12; defaults in src/repair and src/worker/repair): how often
   * desired.json is read, how long a repair's replacement has to serve.
   */
  repair?: { desiredPollMs?: number; healthBudgetMs?: number };
}

/** How long a SIGTERM's drain may last: min(deregistration delay, what the stop budget leaves). */
export function drainBudgetMs(options: Pick<WorkerOptions, "drain" | "supervisor" | "shutdownFlushMs">): number {
  return Math.max(0, Math.min(options.drain.maxMs, options.drain.stopBudgetMs - options.supervisor.stopGraceMs - options.shutdownFlushMs));
}

export interface WorkerFlags {
  project: string;
  model?: string;
  modelServerCommand?: string;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw usageError("invalid-port", `${name}='${raw}' is not a TCP port (0-65535).`, `unset ${name}`);
  return value;
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallbackMs: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallbackMs;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw usageError("invalid-duration", `${name}='${raw}' is not a positive number of seconds.`, `unset ${name}`);
  return Math.round(value * 1000);
}

/**
 * Flags win over the environment; the environment over defaults. User-data sets SYNKTI_MODELS_DIR and
 * SYNKTI_EXPECTED_SHA256; the local cloud adds the SYNKTI_*_PORT overrides and the stand-in command.
 */
export function workerOptionsFromEnv(flags: WorkerFlags, env: NodeJS.ProcessEnv): WorkerOptions {
  const flag = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);
  const modelsDir = flag(env.SYNKTI_MODELS_DIR) ?? "/models";
  return {
    project: flags.project,
    model: flag(flags.model),
    modelServerCommand: flag(flags.modelServerCommand) ?? flag(env.SYNKTI_MODEL_SERVER_COMMAND) ?? DEFAULT_MODEL_SERVER_COMMAND,
    modelsDir,
    modelServerHost: flag(env.SYNKTI_MODEL_SERVER_HOST),
    modelServerPort: port(env, "SYNKTI_MODEL_SERVER_PORT", MODEL_SERVER_PORT),
    statusPort: port(env, "SYNKTI_STATUS_PORT", STATUS_PORT),
    expectedSha256: flag(env.SYNKTI_EXPECTED_SHA256),
    expectedManifestSha256: flag(env.SYNKTI_EXPECTED_MANIFEST_SHA256),
    dryRun: ["1", "true", "yes"].includes((env.SYNKTI_WORKER_DRY_RUN ?? "").trim().toLowerCase()),
    env,
    supervisor: { ...DEFAULT_SUPERVISOR_CONFIG, readyTimeoutMs: seconds(env, "SYNKTI_READY_TIMEOUT_SECONDS", DEFAULT_SUPERVISOR_CONFIG.readyTimeoutMs) },
    discovery: { ...DEFAULT_DISCOVERY_OPTIONS, askTimeoutMs: 1000 },
    interruption: { ...DEFAULT_WATCHER_OPTIONS },
    failedLingerMs: 60_000,
    tagRetryMs: 30_000,
    bootLog: flag(env.SYNKTI_BOOT_LOG),
    shutdownFlushMs: 5000,
    loadBalancer: { ...DEFAULT_MEMBER_OPTIONS },
    drain: { pollMs: 1000, maxMs: DEREGISTRATION_DELAY_SECONDS * 1000, stopBudgetMs: 90_000 },
    // A GPU replacement boots, syncs weights and loads the model: minutes. Failures cluster for about as long.
    failover: { stateDir: flag(env.SYNKTI_STATE_DIR) ?? path.join(modelsDir, ".synkti"), healthBudgetMs: 20 * 60_000, healthPollMs: 5000, throttleBackoffMs: 1000, failureMemoryMs: 10 * 60_000 },
  };
}
