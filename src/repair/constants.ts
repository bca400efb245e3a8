/**
 * The repair's numbers (REPAIR.md). Each one is a trade between how fast a silent death is repaired
 * and how much a stale or partitioned view can cost; the reasons are next to them.
 */

/**
 * Between two repairers of one claim key. Long enough for the one before to have claimed (one
 * PutObject) and for its claim to be listed, short enough that two dead repairers in a row still
 * repair within a minute. Only 412s are at stake when it is too short, never a second launch.
 */
export const REPAIR_GRACE_MS = 15_000;

/** Ranks at or above this wait this many graces: beyond 3 ranks the order buys nothing but delay. */
export const MAX_RANK_DELAY = 3;

/** Each member is watched by this many others, so 2 of them may die with it and it is still seen. */
export const WATCHERS = 3;

/** The peer ask round (src/worker/discovery): a watched member is asked every round. */
export const ASK_ROUND_MS = 5_000;

/**
 * The floor of a watcher's re-checks of members EC2 called alive that still do not answer
 * (watch.ts): REPAIR.md's once per 30 s per target, which at 1000 members and a partition across
 * a third of the ring would cost ~2,700 calls a minute. The interval therefore grows with the
 * cluster (watchRecheckMs), and a watcher's checks of one round are one call.
 */
export const WATCH_RECHECK_MS = 30_000;

/** The whole cluster's budget for those re-checks, like discovery's listings (0.5/s = 30 a minute). */
export const WATCH_RECHECK_CALLS_PER_SECOND = 0.5;

/** A holder that has not served this long after its launch never will (stuck boot, bad weights). */
export const NEVER_SERVED_MS = 30 * 60_000;

/**
 * A claim this old whose slot is still empty failed (its claimant died before or during the
 * launch): the next attempt may claim. Far above a launch's own time (seconds) plus a listing's lag.
 */
export const CLAIM_STALE_MS = 10 * 60_000;

/** The last this many outcomes (after desired.setAt) all failed: repair pauses (a GPU crash loop). */
export const PAUSE_AFTER_FAILURES = 3;
