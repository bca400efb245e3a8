import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { Timeline } from "../../failover/timeline.js";
import { LatestWriter } from "../state/latest-writer.js";
import type { TraceStore } from "../trace/trace-store.js";

/** The timeline as it is published: `checkpoints/failovers/<doomed id>.json` and /status `failover`. */
export interface FailoverRecord extends Timeline {
  doomed: string;
  /** The machine's status: running, retired (done, waiting to be reclaimed) or abandoned. */
  status: string;
}

/**
 * Keeps `checkpoints/failovers/<doomed id>.json` equal to the latest timeline (LatestWriter: in
 * the background, in order, retried), so it outlives the instance AWS reclaims.
 */
export class TimelineRecord {
  private readonly writer: LatestWriter<FailoverRecord>;

  constructor(deps: { store: TraceStore; clock: Clock; log: Logger }, options: { key: string; retryMs: number }) {
    this.writer = new LatestWriter(deps, (record, signal) => deps.store.put(options.key, `${JSON.stringify(record, null, 2)}\n`, "application/json", signal), {
      what: `failover timeline ${options.key}`,
      retryMs: options.retryMs,
    });
  }

  set(record: FailoverRecord): void {
    this.writer.set(record);
  }

  close(graceMs: number): Promise<boolean> {
    return this.writer.close(graceMs);
  }
}
