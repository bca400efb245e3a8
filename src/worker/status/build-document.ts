import { versionInfo } from "../../core/version.js";
import type { InstanceFacts } from "../../preflight/worker/context.js";
import type { DiscoveryStats } from "../discovery/discovery.js";
import { MAX_PEERS_PER_ANSWER, type InterruptionSnapshot, type ModelServerStatus, type PeerEntry, type StatusDocument } from "../../cluster/status-document.js";

export interface StatusParts {
  project: string;
  facts: InstanceFacts;
  endpoint: string;
  modelServer: ModelServerStatus;
  inFlight: number | undefined;
  peers: PeerEntry[];
  clusterSize: number;
  stats: DiscoveryStats;
  interruption: InterruptionSnapshot;
  loadBalancer: StatusDocument["loadBalancer"];
  failover?: StatusDocument["failover"];
  repair?: StatusDocument["repair"];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Pure: the agent's parts -> the /status document (shape in status-document.ts and the README). */
export function buildStatusDocument(parts: StatusParts): StatusDocument {
  return {
    role: "worker",
    project: parts.project,
    instanceId: parts.facts.instanceId,
    availabilityZone: parts.facts.availabilityZone,
    instanceType: parts.facts.instanceType,
    endpoint: parts.endpoint,
    modelServer: parts.modelServer,
    inFlight: parts.inFlight ?? null,
    // Never more than peers read (and the size cap they enforce holds): a huge cluster's answer stays readable.
    peers: parts.peers.slice(0, MAX_PEERS_PER_ANSWER),
    interruption: parts.interruption,
    failover: parts.failover ?? { phase: "idle" },
    loadBalancer: parts.loadBalancer,
    discovery: {
      clusterSize: parts.clusterSize,
      describeCalls: parts.stats.describeCalls,
      lastListingAt: iso(parts.stats.lastListingAt),
      nextListingAt: iso(parts.stats.nextListingAt),
    },
    ...(parts.repair ? { repair: parts.repair } : {}),
    version: versionInfo().version,
  };
}
