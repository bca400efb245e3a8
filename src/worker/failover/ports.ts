import type { AwsClients } from "../../aws/clients.js";
import type { Ec2Instances, InstanceSummary } from "../../aws/ec2-instances.js";
import { describeTargetHealth } from "../../aws/elbv2-targets.js";
import { instanceVcpus } from "../../aws/instance-types.js";
import { spotVcpuQuota } from "../../aws/quotas.js";
import { answerMayBeLost, awsErrorName, classifyAwsError } from "../../aws/errors.js";
import type { Logger } from "../../core/log.js";
import type { FailoverPorts } from "../../failover/ports.js";
import type { LaunchFailure } from "../../failover/types.js";
import { TAG_REPLACES, TAG_SLOT, TAG_STATE, TAG_STOPPING, workerSelector } from "../../infra/names.js";
import { earlyReplacementRoom, fleetFacts } from "./early-room.js";
import { offeredIn, replacementRunSpec, type ReplacementTemplate } from "./replacement-spec.js";
import { messageOf } from "../../core/errors.js";

/** What the worker itself does for the failover (the agent's drain, its model server, its end). */
export interface WorkerFailoverHooks {
  drain(until: number, signal: AbortSignal): Promise<{ inFlight: number | undefined }>;
  stopModelServer(): Promise<void>;
  terminateSelf(): Promise<void>;
}

/**
 * Hooks for ports whose doomed instance is not this serving worker (a repair of a dead member, the
 * standing plan's observation): nothing to drain, stop or end here.
 */
export const NO_HOOKS: WorkerFailoverHooks = { drain: async () => ({ inFlight: 0 }), stopModelServer: async () => {}, terminateSelf: async () => {} };

export interface WorkerPortsDeps {
  clients: AwsClients;
  instances: Ec2Instances;
  log: Logger;
  project: string;
  selfId: string;
  /**
   * The id the replacement replaces (its SynktiReplaces), when not this worker: a repair launches
   * for a dead member (or a slot never filled) from a live one. Default: `selfId` (the failover).
   */
  doomedId?: string;
  /**
   * Asked before each launch (after the stop marker): "refuse" with why ends the launch as refused.
   * The failover's claim of `<slot>-<doomed id>` (issue 12): a repair never launches for it too.
   */
  beforeLaunch?(signal: AbortSignal): Promise<{ refuse: string } | undefined>;
  /** The launch's request as this worker reproduces it (read once, ahead of any notice). */
  template(signal: AbortSignal): Promise<ReplacementTemplate>;
  /** The project's target group, when known: HEALTH also wants the replacement healthy there. */
  targetGroupArn: string | undefined;
  hooks: WorkerFailoverHooks;
  /**
   * Has `synkti down` begun (this instance's own SynktiStopping tag)? Asked again right before a
   * launch: SELECT's look may be seconds old, and a replacement launched after down's terminate loop
   * would be a GPU nobody ends.
   */
  downBegun?(signal: AbortSignal): Promise<boolean>;
}

const LIVE = ["pending", "running"] as const;

/**
 * The failover's ports on a worker: EC2 through the narrow `Ec2Instances` surface (RunInstances,
 * DescribeInstances by tag, TerminateInstances: what the worker policy allows), ELBv2's target
 * health, and the agent's own drain and model server.
 */
export function workerFailoverPorts(deps: WorkerPortsDeps): FailoverPorts {
  const { instances, project, selfId } = deps;
  const doomedId = deps.doomedId ?? selfId;
  const replacementsOf = (replaced: string, signal: AbortSignal) => instances.describe({ tags: { ...workerSelector(project), [TAG_REPLACES]: replaced } }, signal);
  return {
    drain: (until, signal) => deps.hooks.drain(until, signal),

    async observePools(signal, opts) {
      const [live, template] = await Promise.all([instances.describe({ tags: workerSelector(project), states: [...LIVE] }, signal), deps.template(signal)]);
      return {
        peers: live
          .filter((i) => i.instanceId !== doomedId && i.instanceType && i.availabilityZone)
          .map((i) => ({ instanceType: i.instanceType!, zone: i.availabilityZone! })),
        // The zones the launch chose from (offering the type, with a default subnet): the load
        // balancer's own subnets are the default ones of every zone, so these all get traffic.
        lbZones: Object.keys(template.subnets),
        // Other failovers' failed pools are not shared yet: only this failover's own failures count.
        recentFailures: [],
        // `synkti down` marks every instance of the project, this one included, before terminating.
        stopping: live.some((i) => i.tags[TAG_STOPPING] === "true"),
        // Only a rebalance asks: a notice's SELECT (5 s) never waits on Service Quotas.
        ...(opts?.early ? await earlyHold(deps, live, signal) : {}),
      };
    },

    async findReplacement(doomedId, signal) {
      const found = (await replacementsOf(doomedId, signal)).filter((i) => (LIVE as readonly string[]).includes(i.state));
      const first = found[0];
      if (!first) return undefined;
      return { instanceId: first.instanceId, ...(first.instanceType && first.availabilityZone ? { pool: { instanceType: first.instanceType, zone: first.availabilityZone } } : {}) };
    },

    async launch(request, signal) {
      // On-demand is a candidate only when the launch allowed it (SynktiOnDemandFallback); whether
      // the worker policy lets it through is AWS's answer (infra up --allow-on-demand), "refused" if not.
      if (await (deps.downBegun?.(signal) ?? Promise.resolve(false)).catch(() => false)) {
        return { failure: "refused", message: "synkti down has begun (SynktiStopping): no replacement" };
      }
      const refused = await deps.beforeLaunch?.(signal);
      if (refused) return { failure: "refused", message: refused.refuse };
      const template = await deps.template(signal);
      if (!template.subnets[request.candidate.zone]) return { failure: "refused", message: `no default subnet in ${request.candidate.zone}` };
      const { instanceType, zone } = request.candidate;
      if (!offeredIn(template, instanceType, zone)) return { failure: "refused", message: `${instanceType} is not offered in ${zone}` };
      try {
        const spec = replacementRunSpec(template, request);
        // The failover's replacement inherits this worker's slot (its own tag, read with the template);
        // a repair's request names the dead member's slot itself.
        if (doomedId === selfId && template.slot !== undefined && request.tags[TAG_SLOT] === undefined) spec.tags = { ...spec.tags, [TAG_SLOT]: template.slot };
        const instance = await instances.run(spec, signal);
        deps.log.info({ instanceId: instance.instanceId, pool: request.candidate, launchId: request.launchId }, "replacement launched");
        return { instanceId: instance.instanceId };
      } catch (error) {
        const failure = launchFailure(error);
        if (!failure) throw error; // no answer, or a 5xx: it may have launched; the machine searches first
        return { failure, message: `${awsErrorName(error)}: ${messageOf(error)}` };
      }
    },

    async replacementStatus(instanceId, signal) {
      const found = (await replacementsOf(doomedId, signal)).find((i) => i.instanceId === instanceId);
      // Gone, or not yet visible (eventual consistency): no state, not healthy; asked again later.
      if (!found) return { targetHealthy: false };
      const state = (LIVE as readonly string[]).includes(found.state) ? found.tags[TAG_STATE] : found.state;
      return { ...(state !== undefined ? { state } : {}), targetHealthy: await targetHealthy(deps, instanceId, signal) };
    },

    async terminateReplacement(instanceId) {
      await instances.terminate([instanceId]);
    },
    stopModelServer: () => deps.hooks.stopModelServer(),
    terminateSelf: () => deps.hooks.terminateSelf(),
  };
}

/**
 * Issue 11 item 4: whether an early (rebalance) replacement fits now (early-room.ts). Asked by a
 * rebalance's SELECT only. Never blocks on an unreadable quota: the cap.
 */
async function earlyHold(deps: WorkerPortsDeps, live: InstanceSummary[], signal: AbortSignal): Promise<{ earlyHold?: string }> {
  const selfType = live.find((i) => i.instanceId === deps.selfId)?.instanceType;
  if (!selfType) return {};
  const [quota, vcpus] = await Promise.all([
    spotVcpuQuota(deps.clients, selfType, signal).catch((error: unknown) => ({ known: false as const, reason: awsErrorName(error) })),
    instanceVcpus(deps.clients, selfType, signal),
  ]);
  const room = earlyReplacementRoom({ quotaVcpus: quota.known ? quota.vcpus : undefined, vcpusPerInstance: vcpus, ...fleetFacts(live, selfType, vcpus) });
  if (!quota.known) deps.log.info({ reason: quota.reason }, "spot quota unreadable; early replacements capped by the worker count");
  if (room.room) return {};
  deps.log.warn({ detail: room.detail }, "no room for an early replacement: the rebalance recommendation launches none and the worker keeps serving (a spot notice is still replaced)");
  return { earlyHold: room.detail };
}

/** A refusal AWS answered (classified for the machine), or undefined when the outcome is unknown. */
function launchFailure(error: unknown): LaunchFailure | undefined {
  const kind = classifyAwsError(error);
  if (kind === "capacity") return "capacity";
  if (kind === "throttled") return "throttled";
  return answerMayBeLost(error) ? undefined : "refused";
}

/**
 * Healthy in the target group. When the group cannot be read (no group known, the call refused),
 * the replacement's own `serving` tag is the word: it registers itself only once it serves.
 */
async function targetHealthy(deps: WorkerPortsDeps, instanceId: string, signal: AbortSignal): Promise<boolean> {
  if (!deps.targetGroupArn) return true;
  try {
    const targets = await describeTargetHealth(deps.clients, deps.targetGroupArn, signal);
    return targets.some((t) => t.id === instanceId && t.state === "healthy");
  } catch (error) {
    deps.log.warn({ error: messageOf(error) }, "target health unreadable; the replacement's state tag decides");
    return true;
  }
}
