import type { Deadlines } from "./deadlines.js";
import { phaseState, type HistoryEvent } from "./timeline.js";
import type { Candidate, FailoverEffect, FailoverSettings, LaunchFailure, LaunchRequest, PhaseName, PhaseState, Pool } from "./types.js";

/**
 * The machine's state: plain JSON (it is the state file's body). `idle` before any notice;
 * `running`; `retired` (model server stopped, waiting to be reclaimed); `abandoned` (a rebalance
 * failover that found no replacement: the worker keeps serving, a notice starts over).
 */
export interface FailoverState {
  settings: FailoverSettings;
  status: "idle" | "running" | "retired" | "abandoned";
  noticeIds: string[];
  /** T: when AWS acts. Absent while only a rebalance recommendation is known. */
  noticeTime?: number;
  deadlines?: Deadlines;
  /** SELECT's answer, minus the candidates already tried. */
  candidates: Candidate[];
  /** This failover's failed tries, in order (their pools are not tried again). */
  failures: { candidate: Pool & { market?: Candidate["market"] }; at: number; reason: LaunchFailure | "unhealthy" }[];
  /** The launch being made: `inFlight` while its answer is awaited, else waiting for `retryAt`. */
  attempt?: { request: LaunchRequest; throttles: number; inFlight: boolean; retryAt?: number };
  replacement?: { instanceId: string; candidate?: Candidate; launchedAt: number; healthDeadline: number };
  /** A read (observe-pools, find-replacement) that failed, asked again at `at`. */
  retry?: { effect: "observe-pools" | "find-replacement" | "terminate-self"; at: number };
  /** When the replacement's state and target health are read next. */
  nextCheckAt?: number;
  history: HistoryEvent[];
}

export const RETRY_READ_MS = 1_000;
/** A self-termination AWS refused is asked again this often: a retired worker serves nothing and bills. */
export const TERMINATE_RETRY_MS = 60_000;
/** The longest phase detail kept (the status reader accepts 4000). */
export const DETAIL_MAX = 1000;

/** A copy of the state that one step mutates, and the effects it asks for. Never shared. */
export class Draft {
  readonly s: FailoverState;
  readonly effects: FailoverEffect[] = [];

  constructor(state: FailoverState, readonly at: number) {
    this.s = structuredClone(state);
  }

  get(phase: PhaseName): PhaseState {
    return phaseState(this.s.history, phase);
  }

  phase(phase: PhaseName, state: PhaseState, detail?: string): void {
    // AWS's messages can be kilobytes (an encoded authorization failure): `synkti status` reads a
    // detail of at most 4000 characters, so a longer one would make the whole timeline unreadable.
    const said = detail === undefined || detail.length <= DETAIL_MAX ? detail : `${detail.slice(0, DETAIL_MAX - 1)}…`;
    this.s.history.push({ at: this.at, type: "phase", phase, state, ...(said !== undefined ? { detail: said } : {}) });
  }

  /** The latest detail said of a phase, to add to rather than lose. */
  detail(phase: PhaseName): string | undefined {
    for (let i = this.s.history.length - 1; i >= 0; i--) {
      const e = this.s.history[i]!;
      if (e.type === "phase" && e.phase === phase && e.detail !== undefined) return e.detail;
    }
    return undefined;
  }

  emit(effect: FailoverEffect): void {
    this.effects.push(effect);
  }
}

export const describePool = (c: Pool & { market?: string }) => `${c.instanceType}/${c.zone}${c.market === "on-demand" ? " (on-demand)" : ""}`;
export const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
export const isoAt = (ms: number) => new Date(ms).toISOString();
