// The worker agent's public face: run it, configure it, and the pieces tests and benches drive.
export { runWorker, type WorkerDeps, type WorkerOutcome, type WorkerRun } from "./run-worker.js";
export { workerOptionsFromEnv, type WorkerFlags, type WorkerOptions } from "./options.js";
export { Discovery, DEFAULT_DISCOVERY_OPTIONS, type DiscoveryDeps, type DiscoveryOptions } from "./discovery/discovery.js";
export { DEFAULT_DISCOVERY_BUDGET, listingIntervalMs, clusterCallRate, type DiscoveryBudget } from "./discovery/budget.js";
export { InterruptionWatcher } from "./interruption/watcher.js";
export type { InterruptionEvent } from "./interruption/monitors.js";
export { ModelServerSupervisor } from "./model-server/supervisor.js";
export { DEFAULT_MODEL_SERVER_COMMAND, modelServerArgv } from "./model-server/command-template.js";
export type { StatusDocument, PeerEntry, InterruptionSnapshot, ModelServerState, ModelServerStatus } from "../cluster/status-document.js";
export { STATUS_PATH, askPeerStatus } from "../cluster/peer-client.js";
export { HEALTH_PATH } from "../infra/load-balancer-settings.js";
export { drainWorker, LoadBalancerMember, type DrainResult } from "./load-balancer/index.js";
export { TAG_ENDPOINT } from "../infra/names.js";
