import type { Candidate, Pool, PoolObservation } from "./types.js";

/**
 * SELECT, pure: the ordered list of candidates a replacement is tried in.
 * - Pools are instance type x zone, over the allowed types and the load balancer's zones only (a
 *   replacement in another zone would serve nobody).
 * - Never the interrupted pool, nor one that failed within `failureMemoryMs` (interruptions and
 *   shortages cluster by pool), whether the failure was another failover's or this one's.
 * - Only the allowed types (the worker policy refuses others); the doomed worker's first, then the
 *   others in the operator's order: same type in other zones before the next type, since a
 *   different type changes the cluster's performance.
 * - Within a type: fewer live peers in the pool first, then fewer in the zone (spreading keeps one
 *   shortage from taking several workers), then the zone's name, so the order is stable.
 * - When on-demand is allowed, the same pools again as on-demand, after every spot one; the
 *   interrupted pool is acceptable there (its spot capacity is what ran out, not the pool).
 */
export interface SelectInput extends PoolObservation {
  doomed: Pool;
  instanceTypes: string[];
  onDemandFallback: boolean;
  failureMemoryMs: number;
  now: number;
}

export const poolKey = (pool: Pool) => `${pool.instanceType}/${pool.zone}`;
export const candidateKey = (c: Candidate) => `${poolKey(c)}/${c.market}`;
export const samePool = (a: Pool, b: Pool) => a.instanceType === b.instanceType && a.zone === b.zone;

export function rankPools(input: SelectInput): Candidate[] {
  // Only allowed types: the worker policy refuses any other (the doomed one's is allowed, normally).
  const allowed = [...new Set(input.instanceTypes)];
  const types = allowed.includes(input.doomed.instanceType) ? [input.doomed.instanceType, ...allowed.filter((t) => t !== input.doomed.instanceType)] : allowed;
  const zones = [...new Set(input.lbZones)];
  const failed = new Set(input.recentFailures.filter((f) => input.now - f.at < input.failureMemoryMs).map((f) => poolKey(f.pool)));
  const inPool = (p: Pool) => input.peers.filter((peer) => samePool(peer, p)).length;
  const inZone = (zone: string) => input.peers.filter((peer) => peer.zone === zone).length;
  const pools: Pool[] = [];
  for (const instanceType of types) {
    const ofType = zones
      .map((zone) => ({ instanceType, zone }))
      .sort((a, b) => inPool(a) - inPool(b) || inZone(a.zone) - inZone(b.zone) || a.zone.localeCompare(b.zone));
    pools.push(...ofType);
  }
  const spot = pools.filter((p) => !samePool(p, input.doomed) && !failed.has(poolKey(p))).map((p) => ({ ...p, market: "spot" as const }));
  const onDemand = input.onDemandFallback ? pools.map((p) => ({ ...p, market: "on-demand" as const })) : [];
  return [...spot, ...onDemand];
}
