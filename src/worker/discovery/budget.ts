/**
 * How often a worker may list its peers with EC2 DescribeInstances, so that the whole cluster stays
 * within a call budget that does not grow with its size. Pure: tested with tables.
 *
 * THE BOUND. Let B be the cluster's budget in DescribeInstances calls per second, N_i the cluster
 * size member i saw last (itself included), c_i the calls (pages) its last listing took. Member i
 * lists every
 *
 *     T_i = max(T_min, N_i * c_i / B)    (times a jitter factor with mean 1)
 *
 * so it spends c_i / T_i <= B / N_i calls per second, and the N members together spend
 *
 *     sum_i c_i / T_i <= sum_i B / N_i = B    when every N_i = N,
 *
 * whatever N is. With B = 0.5 (30 calls a minute for the whole cluster, 1 page up to 1000
 * members), a 10-member cluster lists every 20 s per member, 100 every 200 s, 1000 every 2000 s.
 * Small clusters are cheaper still (T_min = 10 s: 3 members spend 0.3 calls/s). A member that saw a
 * smaller cluster than the real one polls more often only until its next listing (N counts only what
 * its own listings showed: a peer's /status cannot change it, see membership.ts).
 * Outside the bound: one listing at each join (N_i is unknown before it), so a launch of k workers
 * adds k calls once; and the SDK's own retries of a failed call. Throttling doubles T_i.
 * Freshness between listings comes from peers, not EC2: every round a member asks a few peers'
 * /status (HTTP inside the VPC, free), learning their health and the members they listed.
 */
export interface DiscoveryBudget {
  /** B: DescribeInstances calls per second for the whole cluster. AWS's bucket for the account is far larger; leave room for deployers and failovers. */
  clusterCallsPerSecond: number;
  /** T_min: no member lists more often than this, however small the cluster. */
  minIntervalMs: number;
  /** Each interval is multiplied by a factor uniform in [1 - jitter, 1 + jitter] (mean 1). */
  jitter: number;
  /** Cap of the throttled backoff. */
  maxIntervalMs: number;
}

export const DEFAULT_DISCOVERY_BUDGET: DiscoveryBudget = {
  clusterCallsPerSecond: 0.5,
  minIntervalMs: 10_000,
  jitter: 0.2,
  maxIntervalMs: 4 * 3600_000,
};

/** T_i before jitter. */
export function listingIntervalMs(clusterSize: number, callsPerListing: number, budget: DiscoveryBudget = DEFAULT_DISCOVERY_BUDGET): number {
  const n = Math.max(1, clusterSize);
  const calls = Math.max(1, callsPerListing);
  return Math.max(budget.minIntervalMs, Math.ceil((1000 * n * calls) / budget.clusterCallsPerSecond));
}

/** A jittered interval (mean preserved), so members that joined together do not list together. */
export function jittered(intervalMs: number, random: () => number, budget: DiscoveryBudget = DEFAULT_DISCOVERY_BUDGET): number {
  return Math.round(intervalMs * (1 - budget.jitter + 2 * budget.jitter * random()));
}

/**
 * The wait before the first periodic listing after a join: a uniformly random phase of the
 * interval. Members launched together then spread their listings evenly instead of bursting.
 */
export function firstPhaseMs(intervalMs: number, random: () => number): number {
  return Math.round(intervalMs * random());
}

/** After `throttles` consecutive throttling errors: double each time, capped. */
export function throttledIntervalMs(intervalMs: number, throttles: number, budget: DiscoveryBudget = DEFAULT_DISCOVERY_BUDGET): number {
  return Math.min(budget.maxIntervalMs, intervalMs * 2 ** Math.max(0, throttles));
}

/** Expected calls per second of a whole cluster of `clusterSize` members that all see the same size. */
export function clusterCallRate(clusterSize: number, callsPerListing: number, budget: DiscoveryBudget = DEFAULT_DISCOVERY_BUDGET): number {
  return (clusterSize * Math.max(1, callsPerListing) * 1000) / listingIntervalMs(clusterSize, callsPerListing, budget);
}
