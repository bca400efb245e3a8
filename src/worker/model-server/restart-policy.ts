/**
 * When to restart a crashed model server and when to give up. Pure, so it is table-tested.
 *
 * - Backoff grows exponentially with the crashes inside the window (1 s, 2 s, 4 s, ... capped), so a
 *   server that dies at once is not restarted in a tight loop that floods the log and the GPU driver.
 * - Give up when `maxCrashes` crashes fall inside a sliding `windowMs` (default 5 in 10 minutes):
 *   then something is wrong with this machine or these weights, and a fresh instance (fungible
 *   compute) is a better bet than a sixth try. A window, not a lifetime count: a server that
 *   crashes once a day is kept alive for ever.
 * - Also give up after `maxNeverReady` starts in a row that never became healthy. A start that hangs
 *   is only declared failed after the ready timeout (20 minutes), longer than the window, so the
 *   window alone would restart a hung server for ever while the GPU bills.
 */
export interface RestartPolicy {
  maxCrashes: number;
  windowMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxNeverReady: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxCrashes: 5,
  windowMs: 10 * 60_000,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  maxNeverReady: 2,
};

export type RestartDecision =
  | { action: "restart"; delayMs: number; recentCrashes: number }
  | { action: "give-up"; reason: string; recentCrashes: number };

/**
 * `crashes` are the times of every crash so far, the newest included; `neverReadyInARow` counts the
 * latest starts that failed without ever becoming healthy.
 */
export function restartDecision(crashes: readonly number[], now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY, neverReadyInARow = 0): RestartDecision {
  const recent = pruneCrashes(crashes, now, policy).length;
  if (neverReadyInARow >= policy.maxNeverReady) {
    return { action: "give-up", recentCrashes: recent, reason: `${neverReadyInARow} starts in a row never became healthy` };
  }
  if (recent >= policy.maxCrashes) {
    const minutes = Math.round(policy.windowMs / 60_000);
    return { action: "give-up", recentCrashes: recent, reason: `${recent} crashes within ${minutes} minute${minutes === 1 ? "" : "s"}` };
  }
  const exponent = Math.max(0, recent - 1);
  const delayMs = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** exponent);
  return { action: "restart", delayMs, recentCrashes: recent };
}

/** Only the crashes that can still matter: bounded memory for an agent that runs for months. */
export function pruneCrashes(crashes: readonly number[], now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number[] {
  return crashes.filter((t) => now - t < policy.windowMs);
}
