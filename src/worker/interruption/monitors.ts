import { createHash } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../../core/clock.js";
import type { ImdsClient } from "../../context/imds-client.js";

/**
 * The two notices EC2 gives a spot instance, read from IMDS (both 404 until there is one):
 * - `spot/instance-action`: {"action":"terminate"|"stop"|"hibernate","time":"<UTC>"}, two minutes
 *   before AWS acts;
 * - `events/recommendations/rebalance`: {"noticeTime":"<UTC>"}, an earlier hint that capacity is
 *   getting scarce (it can come 10-20 minutes before, with, or without the notice).
 * A monitor is one check (AWS Node Termination Handler's shape): the watcher schedules it; the
 * check itself holds no timer, so it is tested by calling it.
 */
export const SPOT_ACTION_PATH = "/latest/meta-data/spot/instance-action";
export const REBALANCE_PATH = "/latest/meta-data/events/recommendations/rebalance";

export type InterruptionKind = "spot-interruption" | "rebalance-recommendation";

export interface InterruptionEvent {
  kind: InterruptionKind;
  /** Hash of the notice's content: the same notice read twice is one event. */
  id: string;
  /** When the agent first saw it (clock time, ms). */
  observedAt: number;
  /** spot-interruption only. */
  action?: string;
  /** spot-interruption: when AWS will act. */
  time?: string;
  /** rebalance-recommendation: when AWS issued it. */
  noticeTime?: string;
}

export interface Monitor {
  readonly kind: InterruptionKind;
  check(signal: AbortSignal, timeoutMs: number): Promise<InterruptionEvent | undefined>;
}

const SpotActionSchema = z.object({ action: z.string().min(1), time: z.string().min(1) });
const RebalanceSchema = z.object({ noticeTime: z.string().min(1) });

export function contentId(kind: InterruptionKind, content: Record<string, string>): string {
  const canonical = JSON.stringify(Object.keys(content).sort().map((k) => [k, content[k]]));
  return createHash("sha256").update(`${kind}\n${canonical}`).digest("hex").slice(0, 16);
}

/** IMDS errors propagate (the watcher logs them and tries again); a 401 is retried by ImdsClient. */
export function spotInterruptionMonitor(imds: ImdsClient, clock: Clock): Monitor {
  return {
    kind: "spot-interruption",
    async check(signal, timeoutMs) {
      const notice = await imds.getJson(SPOT_ACTION_PATH, { schema: SpotActionSchema, signal, timeoutMs });
      if (!notice) return undefined;
      const content = { action: notice.action, time: notice.time };
      return { kind: "spot-interruption", id: contentId("spot-interruption", content), observedAt: clock.now(), ...content };
    },
  };
}

export function rebalanceMonitor(imds: ImdsClient, clock: Clock): Monitor {
  return {
    kind: "rebalance-recommendation",
    async check(signal, timeoutMs) {
      const notice = await imds.getJson(REBALANCE_PATH, { schema: RebalanceSchema, signal, timeoutMs });
      if (!notice) return undefined;
      const content = { noticeTime: notice.noticeTime };
      return { kind: "rebalance-recommendation", id: contentId("rebalance-recommendation", content), observedAt: clock.now(), ...content };
    },
  };
}
