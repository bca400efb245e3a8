import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/log.js";
import type { FailoverState } from "./draft.js";
import { initialState, step } from "./machine.js";
import type { FailoverPorts, StateStore } from "./ports.js";
import { resumeFrom, toStateFile } from "./state-file.js";
import { projectTimeline, type Timeline } from "./timeline.js";
import type { FailoverEffect, FailoverEvent, FailoverSettings } from "./types.js";
import { messageOf } from "../core/errors.js";

/** A notice as the interruption watcher reports it (structurally: src/failover imports no worker code). */
export interface Notice {
  kind: "spot-interruption" | "rebalance-recommendation";
  id: string;
  /** spot-interruption: when AWS acts (ISO 8601). */
  time?: string;
}

/** Used when a spot notice's time does not parse: AWS's documented two minutes. */
export const DEFAULT_NOTICE_MS = 120_000;

type Input = FailoverEvent extends infer E ? (E extends FailoverEvent ? Omit<E, "at"> : never) : never;

/**
 * Performs the machine's effects through the ports and feeds their answers back as events, one
 * event at a time (a queue: steps never interleave). After each step it saves the state file, then
 * starts the step's effects, which run concurrently (DRAIN alongside SELECT and SPAWN). One timer,
 * for the earliest `wake` asked for. `close()` aborts whatever is still waiting.
 */
export class FailoverRunner {
  private state: FailoverState;
  private queue: Promise<void> = Promise.resolve();
  private readonly life = new AbortController();
  private wake?: { at: number; timer: AbortController };

  constructor(
    private readonly deps: { clock: Clock; log: Logger; ports: FailoverPorts; store: StateStore; onTimeline?: (timeline: Timeline) => void },
    private readonly settings: FailoverSettings,
  ) {
    this.state = initialState(settings);
  }

  /** Loads the state file; a failover in progress there is resumed (never launched again). */
  async start(): Promise<void> {
    let file: unknown;
    try {
      file = await this.deps.store.load();
    } catch (error) {
      this.deps.log.warn({ error: messageOf(error) }, "failover state file unreadable; starting afresh");
    }
    const { state, resumed, problem } = resumeFrom(this.settings, file);
    if (problem) this.deps.log.warn({ problem }, "failover state file ignored");
    this.state = state;
    if (resumed && state.status !== "idle") await this.dispatch({ type: "resumed" });
  }

  notice(notice: Notice): Promise<void> {
    if (notice.kind === "rebalance-recommendation") return this.dispatch({ type: "notice", kind: notice.kind, id: notice.id });
    const parsed = Date.parse(notice.time ?? "");
    const time = Number.isNaN(parsed) ? this.deps.clock.now() + DEFAULT_NOTICE_MS : parsed;
    return this.dispatch({ type: "notice", kind: notice.kind, id: notice.id, time });
  }

  timeline(): Timeline {
    return projectTimeline(this.state.history);
  }

  get current(): FailoverState {
    return this.state;
  }

  /** Waits until every step queued so far has run (effects may still be under way). */
  settled(): Promise<void> {
    return this.queue;
  }

  close(): void {
    this.life.abort(new Error("failover runner closed"));
  }

  private dispatch(input: Input): Promise<void> {
    // A step that throws (a bug) is logged, never left in the queue: a rejected queue would skip every
    // later event (the failover stuck for good) and, from the timers' `void` chains, crash the agent.
    this.queue = this.queue
      .then(() => this.apply({ ...input, at: this.deps.clock.now() } as FailoverEvent))
      .catch((error: unknown) => this.deps.log.error({ event: input.type, error: messageOf(error) }, "failover step threw; the failover goes on with the next event"));
    return this.queue;
  }

  private async apply(event: FailoverEvent): Promise<void> {
    if (this.life.signal.aborted) return;
    const before = this.state.history.length;
    const { state, effects } = step(this.state, event);
    this.state = state;
    try {
      await this.deps.store.save(toStateFile(state, event.at));
    } catch (error) {
      // The failover goes on without it: losing the file costs a search on restart, not a launch.
      this.deps.log.warn({ error: messageOf(error) }, "failover state file not saved");
    }
    if (state.history.length !== before) {
      const timeline = this.timeline();
      this.deps.log.info({ failover: timeline }, "failover");
      try {
        this.deps.onTimeline?.(timeline);
      } catch (error) {
        // Publishing is best effort: the step's effects (the launch) must run regardless.
        this.deps.log.warn({ error: messageOf(error) }, "failover timeline not published");
      }
    }
    for (const effect of effects) this.perform(effect);
  }

  private perform(effect: FailoverEffect): void {
    const { ports, clock } = this.deps;
    const signal = this.life.signal;
    if (effect.type === "wake") {
      // An earlier pending tick stays (a spurious tick changes nothing); a later one is replaced.
      if (this.wake && this.wake.at <= effect.at && !this.wake.timer.signal.aborted) return;
      this.wake?.timer.abort();
      const wake = (this.wake = { at: effect.at, timer: new AbortController() });
      const both = AbortSignal.any([signal, wake.timer.signal]);
      clock.sleep(Math.max(0, effect.at - clock.now()), both).then(
        () => {
          if (this.wake === wake) this.wake = undefined;
          return this.dispatch({ type: "tick" });
        },
        () => {},
      );
      return;
    }
    const answer = async (): Promise<Input | undefined> => {
      switch (effect.type) {
        case "drain":
          return { type: "drained", inFlight: (await ports.drain(effect.until, signal)).inFlight };
        case "observe-pools":
          return { type: "pools-observed", ...(await ports.observePools(signal, { early: effect.early === true })) };
        case "find-replacement": {
          const found = await ports.findReplacement(effect.doomedId, signal);
          return { type: "replacement-search", ...(found ? { found } : {}) };
        }
        case "launch": {
          const outcome = await ports.launch(effect.request, signal);
          const candidate = effect.request.candidate;
          return "instanceId" in outcome ? { type: "launched", candidate, instanceId: outcome.instanceId } : { type: "launch-failed", candidate, reason: outcome.failure, message: outcome.message };
        }
        case "check-replacement":
          await clock.sleep(Math.max(0, effect.at - clock.now()), signal);
          return { type: "replacement-status", instanceId: effect.instanceId, ...(await ports.replacementStatus(effect.instanceId, signal)) };
        case "terminate-replacement":
          return void (await ports.terminateReplacement(effect.instanceId));
        case "stop-model-server":
          return void (await ports.stopModelServer());
        case "terminate-self":
          return void (await ports.terminateSelf());
      }
    };
    answer().then(
      (event) => (event ? this.dispatch(event) : undefined),
      (error: unknown) => {
        if (signal.aborted) return;
        this.deps.log.warn({ effect: effect.type, error: messageOf(error) }, "failover step failed");
        return this.dispatch({ type: "effect-failed", effect: effect.type, message: messageOf(error) });
      },
    );
  }
}

