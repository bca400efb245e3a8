// The fleet as AWS lists it: status, teardown and leak detection, all by the project's tags.
export { askWorkerHealth, healthOf, HEALTH_TIMEOUT_MS, type AskHealth, type Health, type HealthAnswer } from "./health.js";
export { fleetStatus, projectStatus, workerStatus, type ProjectStatus, type StatusResult, type WorkerStatus } from "./status.js";
export { readWorkerTags, type WorkerTags } from "./worker-tags.js";
export { downProject, type DownOptions, type DownResult } from "./down.js";
export { findLeaks, type Leak, type LeakKind, type LeaksResult } from "./leaks.js";
export { terminateAndWait, type FleetDeps, type TerminateOptions, type TerminateReport } from "./terminate.js";
export * from "./tags.js";
export { fleetDeps } from "./deps.js";
export { doing } from "../../aws/errors.js";
export { drainTargets, DRAIN_MARGIN_MS, type DrainOptions, type DrainReport } from "./drain-targets.js";
export { loadBalancerStatus, type LoadBalancerStatus, type TargetStatus } from "./load-balancer-status.js";
