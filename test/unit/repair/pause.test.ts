import { describe, expect, it } from "vitest";
import { parseOutcome, pauseState, type RepairOutcome } from "../../../src/repair/index.js";
import { at, desired } from "./fixtures.js";

const o = (minute: number, outcome: "served" | "failed", cause = `i-${minute}`): RepairOutcome => ({
  slot: 0, cause, replacement: `i-r${minute}`, outcome, at: new Date(at(minute)).toISOString(), reason: outcome === "failed" ? "vLLM exited 1" : "served",
});

describe("the pause rule", () => {
  it.each<[string, RepairOutcome[], number, boolean, number]>([
    ["no outcomes", [], -60, false, 0],
    ["three failures in a row", [o(1, "failed"), o(2, "failed"), o(3, "failed")], -60, true, 3],
    ["two failures", [o(1, "failed"), o(2, "failed")], -60, false, 2],
    ["a success last resets it", [o(1, "failed"), o(2, "failed"), o(3, "failed"), o(4, "served")], -60, false, 0],
    ["a success in between breaks the run", [o(1, "failed"), o(2, "failed"), o(3, "served"), o(4, "failed")], -60, false, 1],
    ["order by time, not by listing order", [o(3, "failed"), o(1, "served"), o(2, "failed"), o(4, "failed")], -60, true, 3],
    ["only outcomes after desired.setAt count (the operator's fix)", [o(1, "failed"), o(2, "failed"), o(3, "failed")], 2, false, 1],
  ])("%s", (_name, outcomes, setAtMinute, paused, failures) => {
    const state = pauseState(outcomes, desired(3, setAtMinute));
    expect(state.paused).toBe(paused);
    expect(state.failuresInARow).toBe(failures);
  });

  it("names the last failure (its replacement's logs hold the reason)", () => {
    expect(pauseState([o(1, "failed"), o(2, "failed"), o(3, "failed")], desired(3)).lastFailure?.replacement).toBe("i-r3");
  });

  it("no desired: never paused", () => {
    expect(pauseState([o(1, "failed"), o(2, "failed"), o(3, "failed")], undefined).paused).toBe(false);
  });
});

describe("outcome records (untrusted: written by workers)", () => {
  it.each<[string, string, string | undefined]>([
    ["a record", JSON.stringify(o(1, "failed")), undefined],
    ["not JSON", "{", "not JSON"],
    ["a made-up outcome", JSON.stringify({ ...o(1, "failed"), outcome: "great" }), "Invalid"],
    ["too large", JSON.stringify({ ...o(1, "failed"), reason: "x".repeat(5000) }), "larger than 4096 bytes"],
  ])("%s", (_name, text, problem) => {
    const parsed = parseOutcome(text);
    if (problem === undefined) expect(parsed).toHaveProperty("outcome");
    else expect("problem" in parsed && parsed.problem).toContain(problem);
  });
});
