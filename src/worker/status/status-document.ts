import { z } from "zod";
import type { InterruptionSnapshot } from "../interruption/watcher.js";
import type { ModelServerState, ModelServerStatus } from "../model-server/supervisor.js";
import type { Timeline } from "../../failover/timeline.js";

/**
 * The worker's answer to `GET /status` (see src/worker/README.md). Peers read it to learn this
 * worker's health and, from its `peers`, members they have not listed themselves yet.
 */
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
  failover: { phase: "idle" } | ({ phase: "running" | "retired" | "abandoned" } & Timeline);
  /** This worker in the project's target group: whether AWS accepted its registration, and draining. */
  loadBalancer: { targetGroup: string; registered: boolean; draining: boolean };
  discovery: { clusterSize: number; describeCalls: number; lastListingAt: string | null; nextListingAt: string | null };
  version: string;
}

/**
 * What this worker needs from a peer's document: lenient on everything else, so a peer running a
 * newer synkti with extra fields still counts.
 */
export const PeerStatusSchema = z.object({
  role: z.literal("worker"),
  instanceId: z.string().min(1),
  project: z.string().optional(),
  modelServer: z.object({ state: z.string() }),
  peers: z
    .array(
      z.object({
        instanceId: z.string().min(1),
        endpoint: z.string().nullable(),
        availabilityZone: z.string().nullable().optional(),
        seenAt: z.string(),
      }),
    )
    .default([]),
});
export type PeerStatus = z.infer<typeof PeerStatusSchema>;

const KNOWN_STATES = new Set<PeerHealth>(["starting", "healthy", "unhealthy", "restarting", "failed", "stopped"]);
export function peerHealthOf(state: string): PeerHealth {
  return KNOWN_STATES.has(state as PeerHealth) ? (state as PeerHealth) : "unknown";
}
