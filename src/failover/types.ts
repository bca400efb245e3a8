/**
 * The failover's vocabulary: what the machine is told (events), what it asks for (effects) and
 * what it is configured with. Plain data only, so the state file and the timeline are just JSON
 * and src/failover needs neither the SDK nor the worker.
 */

/** Where a replacement may run: spot capacity is scarce per instance type and zone. */
export interface Pool {
  instanceType: string;
  zone: string;
}

export type Market = "spot" | "on-demand";
/** A pool and the market a launch in it uses (on-demand only as the last resort, when allowed). */
export interface Candidate extends Pool {
  market: Market;
}

export type PhaseName = "drain" | "select" | "spawn" | "health";
export const PHASES: readonly PhaseName[] = ["drain", "select", "spawn", "health"];
/** `handed-over`: HEALTH outlived the doomed worker's watch; the replacement records it itself. */
export type PhaseState = "pending" | "running" | "done" | "failed" | "skipped" | "handed-over";
export type Trigger = "spot-interruption" | "rebalance-recommendation" | "rebalance-then-notice";

/** The worker the notice is for. */
export interface Doomed {
  instanceId: string;
  instanceType: string;
  zone: string;
  /** TAG_SLOT's value, inherited by the replacement when present. */
  slot?: string;
}

export interface FailoverSettings {
  project: string;
  doomed: Doomed;
  /** The allowed instance types, in the operator's order of preference. */
  instanceTypes: string[];
  /** `--on-demand-fallback` at launch: an on-demand replacement once every spot pool failed. */
  onDemandFallback: boolean;
  /** How long a replacement has, from its launch, to serve before it is terminated. */
  healthBudgetMs: number;
  /** How often the replacement's state tag and target health are read. */
  healthPollMs: number;
  /** First wait after a throttled launch; doubled on each further throttle, capped at 8x. */
  throttleBackoffMs: number;
  /** A pool that failed within this window (interruptions and shortages cluster) is not chosen. */
  failureMemoryMs: number;
}

/** What the worker reads about the cluster for SELECT (one effect, one answer). */
export interface PoolObservation {
  /** Live workers other than the doomed one. */
  peers: Pool[];
  /** The zones the load balancer serves: a replacement elsewhere would never get traffic. */
  lbZones: string[];
  /** Pools known to have failed recently (other failovers' records). */
  recentFailures: { pool: Pool; at: number }[];
  /** `synkti down` is stopping the cluster (TAG_STOPPING): no replacement. */
  stopping: boolean;
  /**
   * Why an early (rebalance) replacement must not launch now (issue 11 item 4: the spot quota's
   * headroom, or the cap when it is unreadable). Ignored once a spot notice came: a notice's
   * replacement is never held back.
   */
  earlyHold?: string;
}

export type LaunchFailure = "capacity" | "throttled" | "refused";

type At = { at: number };
export type FailoverEvent = At &
  (
    | { type: "notice"; kind: "spot-interruption"; id: string; time: number }
    | { type: "notice"; kind: "rebalance-recommendation"; id: string }
    | { type: "resumed" }
    | { type: "tick" }
    | { type: "drained"; inFlight: number | undefined }
    | ({ type: "pools-observed" } & PoolObservation)
    | { type: "replacement-search"; found?: { instanceId: string; pool?: Pool } }
    | { type: "launched"; candidate: Candidate; instanceId: string }
    | { type: "launch-failed"; candidate: Candidate; reason: LaunchFailure; message: string }
    | { type: "replacement-status"; instanceId: string; state?: string; targetHealthy: boolean }
    | { type: "effect-failed"; effect: FailoverEffect["type"]; message: string }
  );

/** What the runner needs to build the shared worker run spec for a replacement (no SDK here). */
export interface LaunchRequest {
  candidate: Candidate;
  /** Hex SHA-256 of project, doomed id and pool: AWS returns the first instance on a repeat. */
  clientToken: string;
  /** TAG_LAUNCH's value, `r-<doomed id>`. */
  launchId: string;
  /** Tags beyond the run spec's own: TAG_REPLACES, and TAG_SLOT when the doomed one has one. */
  tags: Record<string, string>;
}

export type FailoverEffect =
  | { type: "drain"; until: number }
  | { type: "observe-pools"; early?: true }
  | { type: "find-replacement"; doomedId: string }
  | { type: "launch"; request: LaunchRequest }
  | { type: "check-replacement"; instanceId: string; at: number }
  | { type: "terminate-replacement"; instanceId: string }
  | { type: "wake"; at: number }
  | { type: "stop-model-server" }
  | { type: "terminate-self" };
