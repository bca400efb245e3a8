import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { spotQuotaFor } from "../../aws/quotas.js";
import { TAG_REPLACES } from "../../infra/names.js";

/**
 * Issue 11 item 4's bound: how many early (rebalance) replacements may run at once. Rebalance
 * recommendations cluster by pool, so without it every worker of a pool launches a replacement at
 * once, doubling the fleet and possibly hitting the spot vCPU quota, which would then starve the
 * replacements that real spot notices need. A spot notice's replacement is never held back.
 */

/** When the quota cannot be read: one early replacement in flight per this many live workers, at least one. */
export const WORKERS_PER_EARLY_REPLACEMENT = 3;

export interface EarlyRoomFacts {
  /** The spot vCPU quota of the worker's family, or undefined when Service Quotas cannot say. */
  quotaVcpus: number | undefined;
  /** vCPUs of one worker (this worker's type), or undefined when unknown. */
  vcpusPerInstance: number | undefined;
  /** vCPUs of the project's live spot instances in that quota (the replacements in flight included). */
  liveSpotVcpus: number;
  /** Early replacements in flight: live instances whose SynktiReplaces names a still-live instance. */
  inFlight: number;
  /** Live workers, the replacements in flight not counted. */
  workers: number;
}

export type EarlyRoom = { room: true; detail: string } | { room: false; detail: string };

/**
 * Quota known: `free = floor((quota - liveSpotVcpus) / vcpusPerInstance)` instances still fit. An
 * early replacement launches only when `free >= 2`: one for it, and one always kept for a spot
 * notice's replacement. Said as a count: at most `inFlight + free - 1` early replacements at once.
 * Quota unknown (moto, AccessDenied): at most max(1, floor(workers / 3)) in flight.
 * The project's own instances are all it sees: other spot instances of the account share the quota.
 */
export function earlyReplacementRoom(f: EarlyRoomFacts): EarlyRoom {
  if (f.quotaVcpus !== undefined && f.vcpusPerInstance !== undefined && f.vcpusPerInstance > 0) {
    const free = Math.floor(Math.max(0, f.quotaVcpus - f.liveSpotVcpus) / f.vcpusPerInstance);
    const allowed = Math.max(0, f.inFlight + free - 1);
    const facts = `spot quota ${f.quotaVcpus} vCPUs, ${f.liveSpotVcpus} in use by the project: room for ${free} more instances of ${f.vcpusPerInstance} vCPUs, one kept for a spot notice; ${f.inFlight} early replacements in flight, at most ${allowed}`;
    return { room: free >= 2, detail: facts };
  }
  const cap = Math.max(1, Math.floor(f.workers / WORKERS_PER_EARLY_REPLACEMENT));
  const facts = `spot quota unreadable: at most ${cap} early replacements in flight (1 per ${WORKERS_PER_EARLY_REPLACEMENT} of ${f.workers} live workers); ${f.inFlight} in flight`;
  return { room: f.inFlight < cap, detail: facts };
}

/** The listing's part of the facts: replacements in flight, workers, and spot vCPUs in this worker's quota. */
export function fleetFacts(live: InstanceSummary[], selfType: string, vcpusPerInstance: number | undefined): Pick<EarlyRoomFacts, "inFlight" | "workers" | "liveSpotVcpus"> {
  const liveIds = new Set(live.map((i) => i.instanceId));
  const inFlight = live.filter((i) => {
    const doomed = i.tags[TAG_REPLACES];
    return doomed !== undefined && liveIds.has(doomed);
  }).length;
  const quota = spotQuotaFor(selfType).code;
  // Every instance is counted at this worker's vCPUs: a launch's types are alike (preflight compares them).
  const spot = live.filter((i) => i.market === "spot" && i.instanceType !== undefined && spotQuotaFor(i.instanceType).code === quota).length;
  return { inFlight, workers: live.length - inFlight, liveSpotVcpus: spot * (vcpusPerInstance ?? 0) };
}
