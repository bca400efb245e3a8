/** The failover's public face: the machine, its runner and ports, the timeline and the state file. */
export { initialState, step, type StepResult } from "./machine.js";
export type { FailoverState } from "./draft.js";
export { FailoverRunner, type Notice } from "./runner.js";
export type { FailoverPorts, StateStore } from "./ports.js";
export { projectTimeline, type Timeline, type PhaseRecord, type HistoryEvent } from "./timeline.js";
export { StateFileSchema, resumeFrom, toStateFile, type StateFile } from "./state-file.js";
export { rankPools, poolKey } from "./select.js";
export { launchRequest, replacementClientToken, replacementLaunchId, replacementTags } from "./spawn-request.js";
export * from "./deadlines.js";
export type * from "./types.js";
export { PHASES } from "./types.js";
