// What workers leave behind in the bucket: failure records and logs, read bounded and cleaned.
export { recentFailures, RECENT_FAILURES, type FailureDeps, type RecentFailures } from "./failures.js";
export { validateInstanceId, workerLogs, type WorkerLogs } from "./show.js";
export { INSTANCE_ID, LOG_MAX_BYTES, RECORD_MAX_BYTES, parseFailureRecord, type FailureRecord } from "./record.js";
export { recentFailovers, parseFailoverRecord, FAILOVER_RECORD_MAX_BYTES, type FailoverSummary, type RecentFailovers } from "./failovers.js";
