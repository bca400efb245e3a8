/**
 * A watcher's EC2 checks of the members it watches (watcherRing). An ask that fails says nothing
 * about life: only EC2 does. But a check per failed ask would cost the cluster N x 3 calls per
 * round during a partition, so:
 * - a watched member that answered its last ask and now fails is checked at once (a death is
 *   seen within an ask round: the bound);
 * - one that EC2 already said is alive while it keeps failing (a hung agent, a partition) is
 *   checked again only every watchRecheckMs(N), which grows with the cluster like the listing
 *   interval, so re-checks cost the whole cluster at most WATCH_RECHECK_CALLS_PER_SECOND however
 *   large a partition is;
 * - every check a watcher makes in one round is one DescribeInstances InstanceIds=[...] (<= 3 ids).
 * A member that dies while it was already unreachable to all 3 of its watchers is found by a
 * re-check or by the next listing's census, whichever is first.
 */
import { WATCH_RECHECK_CALLS_PER_SECOND, WATCH_RECHECK_MS } from "./constants.js";

/** How often a watcher re-checks watched members EC2 called alive that still do not answer. */
export function watchRecheckMs(clusterSize: number, callsPerSecond = WATCH_RECHECK_CALLS_PER_SECOND): number {
  return Math.max(WATCH_RECHECK_MS, Math.ceil((1000 * Math.max(1, clusterSize)) / callsPerSecond));
}

export interface WatchInput {
  /** Watched members whose ask failed this round. */
  failed: readonly string[];
  /** Watched members EC2 called alive since they last answered (cleared when one answers). */
  aliveChecked: ReadonlySet<string>;
  /** When this watcher last made a check call (any: a first check's answer is as fresh as a re-check's). */
  lastCheckAt: number | undefined;
  now: number;
  clusterSize: number;
}

/** The ids to check now, in one DescribeInstances (empty: no call this round). */
export function watchChecksDue(input: WatchInput): string[] {
  const first = input.failed.filter((id) => !input.aliveChecked.has(id));
  const again = input.failed.filter((id) => input.aliveChecked.has(id));
  const recheck = again.length > 0 && (input.lastCheckAt === undefined || input.now - input.lastCheckAt >= watchRecheckMs(input.clusterSize));
  // A call made anyway for a first check carries the re-checks too: they cost nothing more.
  return first.length > 0 || recheck ? [...first, ...again] : [];
}
