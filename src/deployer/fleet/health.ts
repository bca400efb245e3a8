import { askPeerStatus, WrongPeerError } from "../../cluster/peer-client.js";
import { peerHealthOf, type PeerHealth, type PeerStatus, type PlanStatus } from "../../cluster/status-document.js";
import { oneLine } from "../../core/printable.js";
import { messageOf } from "../../core/errors.js";

/**
 * A worker's health is its own answer (DESIGN: ask the peer, no cached model): `GET /status` at
 * the endpoint it published as its SynktiEndpoint tag, with the same client and vocabulary peers
 * use. Without the tag the worker has not come up yet: "unknown", and nothing is dialled (the
 * private IP is never guessed). The endpoint is the instance's private address, so a deployer
 * outside the VPC sees "unreachable"; run status from inside (or through a tunnel) for live health.
 */
export type Health = PeerHealth;

export interface HealthAnswer {
  health: Health;
  /** Why, when it is not the worker's own answer. */
  detail: string | null;
  /** The worker's standing failover plan as it answered (cleaned); absent from an older worker. */
  plan?: PlanStatus;
}

export type AskHealth = (instanceId: string, endpoint: string, signal?: AbortSignal) => Promise<HealthAnswer>;

/** Long enough for a busy worker on the same network, short enough for an interactive command. */
export const HEALTH_TIMEOUT_MS = 2000;

export const askWorkerHealth: AskHealth = async (instanceId, endpoint, signal) => {
  try {
    const doc = await askPeerStatus(endpoint, { timeoutMs: HEALTH_TIMEOUT_MS, expect: { instanceId }, ...(signal ? { signal } : {}) });
    const plan = planOf(doc);
    return { health: peerHealthOf(doc.modelServer.state), detail: null, ...(plan ? { plan } : {}) };
  } catch (error) {
    const detail = messageOf(error);
    return { health: error instanceof WrongPeerError ? "unknown" : "unreachable", detail };
  }
};

/** Asks every worker at once (each with its own timeout), so status takes one timeout, not N. */
export async function healthOf(
  workers: Array<{ instanceId: string; state: string; endpoint: string | null }>,
  ask: AskHealth,
  signal?: AbortSignal,
): Promise<Map<string, HealthAnswer>> {
  const answers = await Promise.all(
    workers.map(async (w): Promise<[string, HealthAnswer]> => {
      if (w.state !== "running") return [w.instanceId, { health: "unknown", detail: `instance is ${w.state}` }];
      if (!w.endpoint) return [w.instanceId, { health: "unknown", detail: "no SynktiEndpoint tag yet (booting)" }];
      return [w.instanceId, await ask(w.instanceId, w.endpoint, signal)];
    }),
  );
  return new Map(answers);
}

/** The plan a worker answered, its text cleaned like its tags (the worker wrote it; a terminal shows it). */
function planOf(doc: PeerStatus): PlanStatus | undefined {
  const plan = doc.failover?.plan;
  if (!plan) return undefined;
  const text = (value: string | null | undefined, max: number) => (value ? oneLine(value, max) : null);
  const verified = plan.verifiedAt === null ? NaN : Date.parse(plan.verifiedAt);
  return {
    ready: plan.ready,
    pool: text(plan.pool, 120),
    verifiedAt: Number.isNaN(verified) ? null : new Date(verified).toISOString(),
    code: text(plan.code, 32),
    problem: text(plan.problem, 400),
    fix: text(plan.fix, 400),
  };
}
