import type { StateFile } from "./state-file.js";
import type { LaunchFailure, LaunchRequest, Pool, PoolObservation } from "./types.js";

/**
 * Everything the failover does to the world, as the narrow interfaces the effect runner calls.
 * The worker implements them (EC2, ELBv2, the model server, a file); tests pass fakes. Each is
 * expected to be idempotent: a restarted agent asks again for what was in flight.
 */
export interface FailoverPorts {
  /**
   * DRAIN: `SynktiState=draining`, deregister from the target group, `/healthz` 503, then wait for
   * vLLM's running count to reach 0 or `until` (clock time, ms). Answers what was still in flight.
   * May be called again with an earlier `until` (a notice after a rebalance).
   */
  drain(until: number, signal: AbortSignal): Promise<{ inFlight: number | undefined }>;
  /**
   * SELECT's one observation: live peers, the load balancer's zones, recent pool failures, stop
   * marker; with `early` (a rebalance), also whether an early replacement fits now (`earlyHold`).
   */
  observePools(signal: AbortSignal, opts?: { early: boolean }): Promise<PoolObservation>;
  /** A live (pending or running) instance tagged `SynktiReplaces=<doomedId>`, if any. */
  findReplacement(doomedId: string, signal: AbortSignal): Promise<{ instanceId: string; pool?: Pool } | undefined>;
  /**
   * RunInstances with the shared worker run spec (src/infra/worker-instance.ts) for the request's
   * pool, market, ClientToken, launch id and tags. A refusal is an answer (classified), not a throw;
   * a throw means the outcome is unknown (the machine then searches before launching again).
   */
  launch(request: LaunchRequest, signal: AbortSignal): Promise<{ instanceId: string } | { failure: LaunchFailure; message: string }>;
  /** The replacement's SynktiState tag and whether the target group has it healthy. */
  replacementStatus(instanceId: string, signal: AbortSignal): Promise<{ state?: string; targetHealthy: boolean }>;
  terminateReplacement(instanceId: string): Promise<void>;
  stopModelServer(): Promise<void>;
  terminateSelf(): Promise<void>;
}

/** The state file behind a port (a local file on the worker; memory in tests). */
export interface StateStore {
  /** The parsed JSON, or undefined when there is none. */
  load(): Promise<unknown>;
  save(file: StateFile): Promise<void>;
}
