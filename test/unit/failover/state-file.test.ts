import { describe, expect, it } from "vitest";
import { initialState, projectTimeline, resumeFrom, step, StateFileSchema, toStateFile, type FailoverState } from "../../../src/failover/index.js";
import type { FailoverEvent } from "../../../src/failover/types.js";
import { settings, T0 } from "./fake-ports.js";

const T = T0 + 120_000;
const observed = { peers: [], lbZones: ["us-east-1a", "us-east-1b"], recentFailures: [], stopping: false };

/** Feeds events through the pure step, as the runner would. */
function run(events: FailoverEvent[]): FailoverState {
  return events.reduce((state, event) => step(state, event).state, initialState(settings()));
}

describe("the state file", () => {
  const midSpawn = run([
    { at: T0, type: "notice", kind: "spot-interruption", id: "n1", time: T },
    { at: T0, type: "pools-observed", ...observed },
    { at: T0, type: "replacement-search" },
  ]);

  it("holds the whole state, as JSON, and reads back equal", () => {
    const text = JSON.stringify(toStateFile(midSpawn, T0));
    const parsed = StateFileSchema.parse(JSON.parse(text));
    expect(parsed.state).toEqual(midSpawn);
    expect(parsed.state.attempt).toMatchObject({ inFlight: true, request: { launchId: "r-i-doomed" } });
  });

  it("resumes this instance's failover; ignores another's, or a damaged file, saying why", () => {
    const file = JSON.parse(JSON.stringify(toStateFile(midSpawn, T0)));
    expect(resumeFrom(settings(), file)).toMatchObject({ resumed: true, state: midSpawn });
    expect(resumeFrom(settings(), undefined)).toEqual({ resumed: false, state: initialState(settings()) });
    const other = resumeFrom({ ...settings(), doomed: { ...settings().doomed, instanceId: "i-other" } }, file);
    expect(other).toMatchObject({ resumed: false, problem: "state file is for i-doomed (demo), not this worker" });
    expect(resumeFrom(settings(), { version: 1, savedAt: 0, state: { status: "running" } })).toMatchObject({ resumed: false, problem: expect.stringMatching(/^state file unreadable: /) });
  });

  it("resumed mid-SPAWN, the machine searches for the replacement before any launch", () => {
    const { state, effects } = step(midSpawn, { at: T0 + 5_000, type: "resumed" });
    expect(effects.filter((e) => e.type !== "wake")).toEqual([{ type: "drain", until: T - 10_000 }, { type: "find-replacement", doomedId: "i-doomed" }]);
    expect(state.attempt?.inFlight).toBe(false);
  });
});

describe("the step function", () => {
  it("is pure: the state it is given is left as it was", () => {
    const before = JSON.stringify(initialState(settings()));
    const state = initialState(settings());
    step(state, { at: T0, type: "notice", kind: "spot-interruption", id: "n1", time: T });
    expect(JSON.stringify(state)).toBe(before);
  });

  it("asks for DRAIN, SELECT and a wake at the first deadline on a notice", () => {
    const { effects } = step(initialState(settings()), { at: T0, type: "notice", kind: "spot-interruption", id: "n1", time: T });
    expect(effects).toEqual([{ type: "drain", until: T - 10_000 }, { type: "observe-pools" }, { type: "wake", at: T0 + 5_000 }]);
  });

  it("projects the timeline from the history, phases overlapping", () => {
    const state = run([
      { at: T0, type: "notice", kind: "spot-interruption", id: "n1", time: T },
      { at: T0 + 100, type: "pools-observed", ...observed },
      { at: T0 + 200, type: "replacement-search" },
      { at: T0 + 900, type: "launched", candidate: { instanceType: "g5.xlarge", zone: "us-east-1b", market: "spot" }, instanceId: "i-new" },
    ]);
    const timeline = projectTimeline(state.history);
    expect(timeline.replacement).toBe("i-new");
    expect(timeline.phases.drain).toEqual({ state: "running", startedAt: new Date(T0).toISOString(), endedAt: null, detail: `until ${new Date(T - 10_000).toISOString()}` });
    expect(timeline.phases.spawn).toMatchObject({ state: "done", startedAt: new Date(T0 + 100).toISOString(), endedAt: new Date(T0 + 900).toISOString() });
    expect(timeline.phases.health).toMatchObject({ state: "running", startedAt: new Date(T0 + 900).toISOString(), endedAt: null });
  });
});
