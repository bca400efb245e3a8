// The wire contract worker and deployer both speak (DESIGN: neither imports the other).
export { INSTANCE_ID } from "./instance-id.js";
export { clipReason, LOG_TAIL_BYTES, REASON_MAX_CHARS, type FailureRecord } from "./failure-record.js";
export { WORKER_ENDPOINT } from "./endpoint.js";
export { DesiredSchema, parseDesired, desiredGeneration, DESIRED_MAX_BYTES, type Desired } from "./desired.js";
export { MAX_DESIRED_WORKERS } from "./desired-size.js";
