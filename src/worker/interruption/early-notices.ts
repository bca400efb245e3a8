import type { Logger } from "../../core/log.js";
import type { Notice } from "../../failover/runner.js";
import type { InterruptionEvent } from "./monitors.js";
import { messageOf } from "../../core/errors.js";

/** What takes a notice once the worker has booted: the failover (AgentFailover). */
export interface NoticeTaker {
  notice(notice: Notice): Promise<void>;
}

/**
 * Where a notice goes. The watcher runs from before the preflight, the failover only after it (it
 * needs the preflight's facts): until the failover is ready, notices wait here, in order, and are
 * handed over once when it is; none is lost, none is handed over twice. `override` (tests) takes
 * every notice instead, at once.
 */
export class EarlyNotices {
  private taker: NoticeTaker | undefined;
  private readonly waiting: InterruptionEvent[] = [];

  constructor(
    private readonly log: Logger,
    private readonly override?: (event: InterruptionEvent) => void | Promise<void>,
  ) {}

  deliver(event: InterruptionEvent): void | Promise<void> {
    if (this.override) return this.override(event);
    if (this.taker) return this.taker.notice(toNotice(event));
    this.waiting.push(event);
  }

  /** From now on notices go to `taker`; those that came during boot go first, in order. */
  ready(taker: NoticeTaker): void {
    this.taker = taker;
    for (const event of this.waiting.splice(0)) {
      this.log.info({ kind: event.kind, observedAt: new Date(event.observedAt).toISOString() }, "a notice that came while booting: the failover takes it now");
      taker.notice(toNotice(event)).catch((error: unknown) => this.log.error({ kind: event.kind, error: messageOf(error) }, "reaction to an interruption notice failed"));
    }
  }
}

function toNotice(event: InterruptionEvent): Notice {
  return { kind: event.kind, id: event.id, ...(event.time !== undefined ? { time: event.time } : {}) };
}
