import { withDeadline, type Clock } from "../../core/clock.js";
import type { InterruptionSnapshot } from "../../cluster/status-document.js";
import type { Logger } from "../../core/log.js";
import { EventStore } from "./event-store.js";
import type { InterruptionEvent, InterruptionKind, Monitor } from "./monitors.js";
import { messageOf } from "../../core/errors.js";

export interface WatcherOptions {
  /** Every second: the notice gives 120 s, and each second spent unaware is a second of drain lost. */
  intervalMs: number;
  /** Per check; IMDS answers in about a millisecond, so a slow one is a broken one. */
  timeoutMs: number;
  /**
   * Called once per new event (never for a repeat). The failover (next issue) hooks in here:
   * DRAIN -> SELECT -> SPAWN -> HEALTH. It runs in the background (the watcher keeps polling, a
   * later notice must still be seen); what it throws or rejects with is logged.
   */
  onNotice?: (event: InterruptionEvent) => void | Promise<void>;
}

export const DEFAULT_WATCHER_OPTIONS: Omit<WatcherOptions, "onNotice"> = { intervalMs: 1000, timeoutMs: 500 };

/**
 * Schedules the monitors from outside (each one is a single check), every `intervalMs`, each under
 * its own deadline, all at once so a hung path cannot delay the other. It survives IMDS errors (a
 * restarting metadata service must not kill the agent): logged once when they start and once when
 * they stop, at debug level in between, so a long outage does not flood the log.
 */
export class InterruptionWatcher {
  readonly store = new EventStore();
  private readonly failing = new Set<InterruptionKind>();

  constructor(
    private readonly deps: { clock: Clock; log: Logger },
    private readonly monitors: Monitor[],
    private readonly options: WatcherOptions,
  ) {}

  /** One round of every monitor; returns the events that are new. */
  async tick(signal?: AbortSignal): Promise<InterruptionEvent[]> {
    const fresh: InterruptionEvent[] = [];
    await Promise.all(
      this.monitors.map(async (monitor) => {
        let event: InterruptionEvent | undefined;
        try {
          event = await withDeadline(this.deps.clock, this.options.timeoutMs, `${monitor.kind} check`, (s) => monitor.check(s, this.options.timeoutMs), signal);
          if (this.failing.delete(monitor.kind)) this.deps.log.info({ monitor: monitor.kind }, "interruption check works again");
        } catch (error) {
          if (signal?.aborted) return;
          const detail = messageOf(error);
          if (this.failing.has(monitor.kind)) this.deps.log.debug({ monitor: monitor.kind, error: detail }, "interruption check still failing");
          else this.deps.log.warn({ monitor: monitor.kind, error: detail }, "interruption check failed; retrying every interval");
          this.failing.add(monitor.kind);
          return;
        }
        // React at once, not after the slowest monitor of the round: a hung rebalance check must
        // not delay the two-minute notice.
        if (event && this.store.add(event)) {
          fresh.push(event);
          this.react(event);
        }
      }),
    );
    return fresh;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = this.deps.clock.now();
      await this.tick(signal);
      const wait = Math.max(0, this.options.intervalMs - (this.deps.clock.now() - started));
      try {
        await this.deps.clock.sleep(wait, signal);
      } catch {
        return;
      }
    }
  }

  snapshot(): InterruptionSnapshot {
    const notice = this.store.latest("spot-interruption");
    const rebalance = this.store.latest("rebalance-recommendation");
    const at = (ms: number) => new Date(ms).toISOString();
    return {
      ...(notice && { notice: { action: notice.action ?? "unknown", time: notice.time ?? "unknown", observedAt: at(notice.observedAt) } }),
      ...(rebalance && { rebalance: { noticeTime: rebalance.noticeTime ?? "unknown", observedAt: at(rebalance.observedAt) } }),
    };
  }

  private react(event: InterruptionEvent): void {
    const { id: _id, ...fields } = event;
    this.deps.log.warn({ ...fields, observedAt: new Date(event.observedAt).toISOString() }, event.kind === "spot-interruption" ? "spot interruption notice" : "rebalance recommendation");
    const onNotice = this.options.onNotice;
    if (!onNotice) return;
    void Promise.resolve()
      .then(() => onNotice(event))
      .catch((error: unknown) => {
        this.deps.log.error({ kind: event.kind, error: messageOf(error) }, "reaction to an interruption notice failed");
      });
  }
}
