import type { InstanceSummary, RunSpec } from "../../aws/ec2-instances.js";
import { answerMayBeLost, awsErrorName, classifyAwsError } from "../../aws/errors.js";
import { SynktiError } from "../../core/errors.js";
import { workerRunSpec } from "../../infra/worker-instance.js";
import type { FleetDeps } from "../fleet/terminate.js";
import { leastLoaded, type LaunchPlan } from "./plan.js";
import type { LaunchScope } from "./scope.js";
import type { Fallback, LaunchTarget } from "./types.js";

export interface RunOptions {
  concurrency: number;
  signal?: AbortSignal;
  forceSignal?: AbortSignal;
}

/**
 * Launches the plan's workers, one RunInstances each (a capacity error then costs one worker,
 * not the batch), `concurrency` at a time. A zone without spot capacity is marked exhausted for
 * the rest of this launch and the worker moves to the least-loaded zone left, which is logged and
 * returned as a fallback. The first other error (or Ctrl-C) stops new launches; calls in flight
 * are awaited so their instances are known to the scope before it cleans up.
 */
export async function runWorkers(deps: FleetDeps, scope: LaunchScope, target: LaunchTarget, plan: LaunchPlan, options: RunOptions) {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onInterrupt, { once: true });
  const counts = { ...plan.counts };
  for (const zone of plan.placements) counts[zone] = (counts[zone] ?? 0) + 1;
  const exhausted = new Map<string, string>(); // zone -> the capacity error it gave
  const fallbacks: Fallback[] = [];
  const instances: Array<InstanceSummary & { slot: number }> = [];
  // `index` names the RunInstances request (its ClientToken); `slot` is the SynktiSlot it fills.
  const queue = plan.placements.map((zone, index) => ({ zone, index, slot: plan.slots[index] ?? index }));
  let failure: unknown;

  const moveFrom = (zone: string, error: string): string => {
    exhausted.set(zone, error);
    counts[zone] = (counts[zone] ?? 1) - 1;
    const next = leastLoaded(counts, plan.zones, new Set(exhausted.keys()));
    fallbacks.push({ from: zone, to: next ?? null, error });
    if (next === undefined) throw noCapacity(target, exhausted);
    deps.log.warn({ from: zone, to: next, error }, `no spot capacity for ${target.instanceType} in ${zone} (${error}); launching in ${next} instead`);
    counts[next] = (counts[next] ?? 0) + 1;
    return next;
  };

  const launchSlot = async (index: number, slot: number, first: string): Promise<InstanceSummary | undefined> => {
    let zone = first;
    for (let attempt = 0; ; attempt++) {
      const known = exhausted.get(zone);
      if (known !== undefined) zone = moveFrom(zone, known);
      if (stop.signal.aborted) return undefined;
      try {
        const instance = await deps.ec2.run(runSpec(target, scope.launchId, zone, `${scope.launchId}-${index}-${attempt}`, slot), options.forceSignal);
        scope.created(instance.instanceId);
        deps.log.info({ instanceId: instance.instanceId, zone, slot }, "launched");
        return instance;
      } catch (error) {
        if (classifyAwsError(error) !== "capacity") {
          if (answerMayBeLost(error)) scope.answerLost();
          throw error;
        }
        if (!exhausted.has(zone)) zone = moveFrom(zone, awsErrorName(error));
      }
    }
  };

  const lane = async () => {
    for (let item = queue.shift(); item !== undefined && !stop.signal.aborted; item = queue.shift()) {
      try {
        const instance = await launchSlot(item.index, item.slot, item.zone);
        if (instance) instances.push({ ...instance, slot: item.slot });
      } catch (error) {
        failure ??= error;
        stop.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, lane));
  } finally {
    options.signal?.removeEventListener("abort", onInterrupt);
  }
  options.signal?.throwIfAborted();
  if (failure !== undefined) throw failure;
  return { instances, fallbacks };
}

function runSpec(target: LaunchTarget, launchId: string, zone: string, clientToken: string, slot?: number): RunSpec {
  return workerRunSpec({
    project: target.project,
    imageId: target.imageId,
    instanceType: target.instanceType,
    ...(target.instanceTypes ? { instanceTypes: target.instanceTypes } : {}),
    ...(target.onDemandFallback ? { onDemandFallback: true } : {}),
    subnetId: target.subnets[zone] ?? "",
    securityGroupId: target.securityGroupId,
    instanceProfileName: target.instanceProfile,
    userData: target.userData,
    launchId,
    model: target.model,
    clientToken,
    ...(slot !== undefined ? { slot } : {}),
    ...(target.rootVolume ? { rootVolume: target.rootVolume } : {}),
  });
}

function noCapacity(target: LaunchTarget, exhausted: Map<string, string>): SynktiError {
  const tried = [...exhausted].map(([zone, error]) => `${zone} (${error})`).join(", ");
  return new SynktiError(`No spot capacity for ${target.instanceType} in any availability zone that offers it: ${tried}.`, {
    code: "no-capacity",
    kind: "unsafe",
    fault: "aws",
    remedy: `synkti preflight --project-name ${target.project} --region ${target.region} --model ${target.model} --instance-type <instance-type>   # or retry later`,
  });
}
