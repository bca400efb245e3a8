import { z } from "zod";

/**
 * The worker's answer to `GET /status` (see src/worker/README.md): the wire protocol peers and the
 * deployer both read (peers to learn this worker's health and, from its `peers`, members they have
 * not listed themselves yet; `synkti status` for live health). The worker's supervisor and
 * interruption watcher produce the parts typed here.
 */
/** `stopped`: stopped on purpose (the worker stopping, or replaced by its failover), never restarted. */
export type ModelServerState = "starting" | "healthy" | "unhealthy" | "restarting" | "failed" | "stopped";

export interface ModelServerStatus {
  state: ModelServerState;
  restarts: number;
  pid?: number;
  /** When the state last changed (ISO). */
  since: string;
  lastExit?: { code: number | null; signal: string | null; at: string; reason: string };
  /** Why the agent gave up (state "failed"). */
  failure?: string;
}

export interface InterruptionSnapshot {
  notice?: { action: string; time: string; observedAt: string };
  rebalance?: { noticeTime: string; observedAt: string };
}

/**
 * A failover's timeline as the wire carries it (src/failover/timeline.ts projects it; the cluster's
 * protocol cannot import the failover, so the shape is restated here, loosely typed).
 */
export interface FailoverTimeline {
  trigger: string | null;
  /** The notice time: when AWS acts. Null for a rebalance recommendation until a notice comes. */
  deadlineAt: string | null;
  replacement: string | null;
  phases: Record<"drain" | "select" | "spawn" | "health", { state: string; startedAt: string | null; endedAt: string | null; detail: string | null }>;
}

/**
 * The standing failover plan (issue 11 item 5): the pool a replacement would go to now and when a
 * DryRun of its exact RunInstances request last said it would be allowed. `ready` false names the
 * `problem` (its code is the SynktiPlan tag) and the `fix`, before any notice makes it matter.
 */
export interface PlanStatus {
  ready: boolean;
  /** `<instance type>/<zone>`, the pool SELECT would pick now; null when there is none. */
  pool: string | null;
  /** When the DryRun last answered allowed (ISO); null if never. */
  verifiedAt: string | null;
  /** The problem's code (the SynktiPlan tag's value), null when ready. */
  code: string | null;
  problem: string | null;
  /** The command (or step) that fixes it. */
  fix: string | null;
}

export type PeerHealth = ModelServerState | "unreachable" | "unknown";

export interface PeerEntry {
  instanceId: string;
  /** `<ip>:<status port>` from the peer's SynktiEndpoint tag; null until it published one. */
  endpoint: string | null;
  availabilityZone: string | null;
  /** The peer's model server state as the peer reported it when last asked. */
  health: PeerHealth;
  /** When this worker last asked it (ISO), null if never. */
  askedAt: string | null;
  /** When an EC2 listing (this worker's or a peer's) last showed it running (ISO). */
  seenAt: string;
  /** Who told this worker about it: its own DescribeInstances, or a peer's /status. */
  source: "ec2" | "peer";
}

export interface StatusDocument {
  role: "worker";
  project: string;
  instanceId: string;
  availabilityZone: string;
  instanceType: string;
  endpoint: string;
  modelServer: ModelServerStatus;
  /** vLLM's vllm:num_requests_running; null when the model server does not answer /metrics. */
  inFlight: number | null;
  peers: PeerEntry[];
  interruption: InterruptionSnapshot;
  /** Idle, or the failover's timeline with the machine's status as `phase` (running, retired, abandoned). */
  failover: ({ phase: "idle" } | ({ phase: "running" | "retired" | "abandoned" } & FailoverTimeline)) & { plan?: PlanStatus };
  /** This worker in the project's target group: whether AWS accepted its registration, and draining. */
  loadBalancer: { targetGroup: string; registered: boolean; draining: boolean };
  discovery: { clusterSize: number; describeCalls: number; lastListingAt: string | null; nextListingAt: string | null };
  /** Repair of silent deaths (issue 12), as this worker sees it; absent from an older worker. */
  repair?: RepairSection;
  version: string;
}

/** `/status` `repair`: the desired size this worker read, its slot, the pause, the repairs it claimed. */
export interface RepairSection {
  /** A desired size is known (cluster/desired.json) and this worker takes part. */
  active: boolean;
  desired: number | null;
  /** This worker's slot (its SynktiSlot, or the one its census gives an untagged worker). */
  slot: number | null;
  paused: boolean;
  /** Why nothing is done, when that is the answer. */
  note: string | null;
  /** The members this worker watches (asked every round; an EC2 check when one does not answer). */
  watching: string[];
  /** DescribeInstances calls this worker's watch made so far (checks of watched members). */
  checks: number;
  claims: Array<{ name: string; slot: number; cause: string; phase: "running" | "served" | "failed" | "no-launch"; replacement: string | null; detail: string | null }>;
}

/**
 * Bounds on a peer's answer (one broken or compromised worker must not flood or poison the others).
 * A worker publishes at most MAX_PEERS_PER_ANSWER peers (beyond the 1000 members the call budget is
 * designed for) and readers read no more; a document with that many peers, every field at its
 * longest, stays well under MAX_STATUS_BYTES (about 250 bytes an entry), which readers enforce.
 */
export const MAX_PEERS_PER_ANSWER = 2000;
export const MAX_STATUS_BYTES = 1024 * 1024;

/**
 * What this worker needs from a peer's document: lenient on everything else, so a peer running a
 * newer synkti with extra fields still counts.
 */
export const PeerStatusSchema = z.object({
  role: z.literal("worker"),
  instanceId: z.string().min(1),
  project: z.string().optional(),
  modelServer: z.object({ state: z.string() }),
  // Untrusted gossip: entries past MAX_PEERS_PER_ANSWER are not even read, and each field is bounded.
  peers: z
    .preprocess(
      (peers) => (Array.isArray(peers) ? peers.slice(0, MAX_PEERS_PER_ANSWER) : peers),
      z.array(
        z.object({
          instanceId: z.string().min(1).max(64),
          endpoint: z.string().max(64).nullable(),
          availabilityZone: z.string().max(64).nullable().optional(),
          seenAt: z.string().max(64),
        }),
      ),
    )
    .default([]),
  // Only `synkti status` reads it (the plan); peers ignore it. Absent from an older worker.
  failover: z
    .object({
      plan: z
        .object({
          ready: z.boolean(),
          pool: z.string().max(200).nullable(),
          verifiedAt: z.string().max(64).nullable(),
          code: z.string().max(64).nullable().optional(),
          problem: z.string().max(2000).nullable(),
          fix: z.string().max(2000).nullable(),
        })
        .optional(),
    })
    .passthrough()
    .optional()
    .catch(undefined),
});
export type PeerStatus = z.infer<typeof PeerStatusSchema>;

const KNOWN_STATES = new Set<PeerHealth>(["starting", "healthy", "unhealthy", "restarting", "failed", "stopped"]);
export function peerHealthOf(state: string): PeerHealth {
  return KNOWN_STATES.has(state as PeerHealth) ? (state as PeerHealth) : "unknown";
}
