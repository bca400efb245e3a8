// Launching workers: resolve what to launch, plan the difference, launch it as one undoable unit.
export { beforeLaunch, launchWorkers, newLaunchId, prepareLaunch, type LaunchDeps, type PreparedLaunch } from "./launch.js";
export { buildProposal, renderProposal, proposalQuestion, type LaunchProposal } from "./proposal.js";
export { otherModelError } from "./model-check.js";
export { resolveLaunchTarget, type ResolveInput } from "./resolve.js";
export { LaunchScope, type ScopeOptions } from "./scope.js";
export { planLaunch, describePlan, leastLoaded, type LaunchPlan } from "./plan.js";
export { renderUserData, loadUserDataTemplate, USER_DATA_LIMIT_BYTES, type UserDataParams } from "./user-data.js";
export { METADATA_HOP_LIMIT } from "../../infra/worker-instance.js";
export type { Fallback, LaunchInput, LaunchResult, LaunchTarget } from "./types.js";
export { waitUntilServing, describeProgress, elapsed, type WaitProgress, type WaitResult } from "./wait-serving.js";
export { launchOutcome, type LaunchOutcome } from "./outcome.js";
