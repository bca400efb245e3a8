import type { InstanceState } from "../../aws/ec2-instances.js";
import { SynktiError } from "../../core/errors.js";
import { launchSelector } from "../fleet/tags.js";
import type { FleetDeps } from "../fleet/terminate.js";
import { pollUntil } from "../../core/poll.js";

/**
 * Waits until every instance of this launch is `running` (not until its model is healthy: that
 * takes minutes and is the worker's own business). Listed by the launch tag, not by id: right
 * after RunInstances AWS may not know an id yet and would fail a by-id query. An instance that
 * ends before reaching `running` (spot capacity reclaimed at once) fails the launch.
 */
export async function waitUntilRunning(
  deps: FleetDeps,
  scope: { project: string; launchId: string; instanceIds: string[] },
  options: { deadlineMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<void> {
  const step = await pollUntil(
    { clock: deps.clock, deadlineMs: options.deadlineMs, intervalMs: options.intervalMs ?? 2000, ...(options.signal ? { signal: options.signal } : {}) },
    async () => {
      const seen = await deps.ec2.describe({ tags: launchSelector(scope.project, scope.launchId) }, options.signal);
      const states = new Map<string, InstanceState>(seen.map((i) => [i.instanceId, i.state]));
      const ended = scope.instanceIds.filter((id) => ["shutting-down", "terminated", "stopping", "stopped"].includes(states.get(id) ?? ""));
      if (ended.length > 0) {
        throw new SynktiError(`${ended.join(", ")} ended before it was running (${ended.map((id) => states.get(id)).join(", ")}): AWS reclaimed the spot capacity.`, {
          code: "instance-ended",
          kind: "unsafe",
          fault: "aws",
          remedy: "retry later, or with another --instance-type",
        });
      }
      const waiting = scope.instanceIds.filter((id) => states.get(id) !== "running");
      return waiting.length === 0 ? { done: true, value: undefined } : { done: false, observed: waiting };
    },
  );
  if (!step.done) {
    throw new SynktiError(`${step.observed.join(", ")} did not reach running within ${Math.round(options.deadlineMs / 1000)} s.`, {
      code: "running-timeout",
      kind: "unobservable",
      fault: "aws",
    });
  }
}
