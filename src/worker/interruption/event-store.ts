import type { InterruptionEvent, InterruptionKind } from "./monitors.js";

/**
 * Seen interruption events, keyed by content (AWS Node Termination Handler's event store): the
 * monitors report the same notice every second until the instance dies, and only the first report
 * may trigger a reaction. A notice whose content changes (AWS moved the time, or a new rebalance
 * recommendation) is a new event. Bounded: a long-lived agent may see many rebalance hints.
 */
export class EventStore {
  private readonly seen = new Map<string, InterruptionEvent>();

  constructor(private readonly capacity = 100) {}

  /** True when the event is new (stored now); false for a repeat of a stored one. */
  add(event: InterruptionEvent): boolean {
    const key = `${event.kind}:${event.id}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, event);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }

  /** The most recently added event of a kind. */
  latest(kind: InterruptionKind): InterruptionEvent | undefined {
    let last: InterruptionEvent | undefined;
    for (const event of this.seen.values()) if (event.kind === kind) last = event;
    return last;
  }

  all(): InterruptionEvent[] {
    return [...this.seen.values()];
  }
}
