import { PHASES, type PhaseName, type PhaseState, type Trigger } from "./types.js";

/**
 * The failover's history: typed events the machine appends as it goes (the only record; phases
 * are never stored twice). The timeline that /status, the log and
 * `checkpoints/failovers/<doomed id>.json` show is a pure projection of it.
 */
export type HistoryEvent =
  | { at: number; type: "started"; trigger: Trigger }
  | { at: number; type: "trigger"; trigger: Trigger }
  | { at: number; type: "deadline"; deadlineAt: number }
  | { at: number; type: "phase"; phase: PhaseName; state: PhaseState; detail?: string }
  | { at: number; type: "replacement"; instanceId: string };

export interface PhaseRecord {
  state: PhaseState;
  startedAt: string | null;
  endedAt: string | null;
  detail: string | null;
}

export interface Timeline {
  trigger: Trigger | null;
  /** The notice time: when AWS acts. Null for a rebalance recommendation until a notice comes. */
  deadlineAt: string | null;
  replacement: string | null;
  phases: Record<PhaseName, PhaseRecord>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ENDED: ReadonlySet<PhaseState> = new Set(["done", "failed", "skipped", "handed-over"]);
export const isEnded = (state: PhaseState) => ENDED.has(state);

/**
 * Each phase: started when it first ran, ended when it last ended (a SPAWN reopened after an
 * unhealthy replacement is running again, with no end); the detail is the latest one said.
 */
export function projectTimeline(history: readonly HistoryEvent[]): Timeline {
  const phases = Object.fromEntries(PHASES.map((p) => [p, { state: "pending", startedAt: null, endedAt: null, detail: null }])) as Record<PhaseName, PhaseRecord>;
  const timeline: Timeline = { trigger: null, deadlineAt: null, replacement: null, phases };
  for (const event of history) {
    if (event.type === "started" || event.type === "trigger") timeline.trigger = event.trigger;
    else if (event.type === "deadline") timeline.deadlineAt = iso(event.deadlineAt);
    else if (event.type === "replacement") timeline.replacement = event.instanceId;
    else {
      const record = phases[event.phase];
      record.state = event.state;
      if (event.detail !== undefined) record.detail = event.detail;
      if (event.state === "running") {
        record.startedAt ??= iso(event.at);
        record.endedAt = null;
      } else if (isEnded(event.state)) {
        record.startedAt ??= iso(event.at);
        record.endedAt = iso(event.at);
      }
    }
  }
  return timeline;
}

/** A phase's current state, read from the history (the machine's own view). */
export function phaseState(history: readonly HistoryEvent[], phase: PhaseName): PhaseState {
  for (let i = history.length - 1; i >= 0; i--) {
    const event = history[i]!;
    if (event.type === "phase" && event.phase === phase) return event.state;
  }
  return "pending";
}
