import { doing } from "../../aws/errors.js";
import type { ProjectNames } from "../../infra/names.js";
import type { ProjectLoadBalancer } from "../endpoint/load-balancer.js";
import { loadBalancerUrl } from "../endpoint/url.js";
import { oneLine } from "../../core/printable.js";
import { messageOf } from "../../core/errors.js";

/**
 * The load balancer part of `synkti status`: its URL and what it thinks of each registered target
 * (DescribeTargetHealth). Status never fails for it: no load balancer, no target group or a refused
 * read is `null` with the reason.
 */
export interface TargetStatus {
  instanceId: string;
  /** initial | healthy | unhealthy | unhealthy.draining | unused | draining | unavailable */
  state: string;
  /** AWS's reason code (Target.FailedHealthChecks, ...); null when healthy. */
  reason: string | null;
  description: string | null;
}

export interface LoadBalancerStatus {
  url: string;
  targets: TargetStatus[];
}

export type LoadBalancerAnswer = { loadBalancer: LoadBalancerStatus; unavailable: null } | { loadBalancer: null; unavailable: string };

export async function loadBalancerStatus(lb: ProjectLoadBalancer, names: ProjectNames, urlOverride?: string, signal?: AbortSignal): Promise<LoadBalancerAnswer> {
  const fix = `synkti infra up --project-name ${names.project}`;
  try {
    return await doing(`reading load balancer ${names.loadBalancer}`, () => read(lb, names, fix, urlOverride, signal));
  } catch (error) {
    if (signal?.aborted) throw error;
    return { loadBalancer: null, unavailable: oneLine(messageOf(error), 300) };
  }
}

async function read(lb: ProjectLoadBalancer, names: ProjectNames, fix: string, urlOverride?: string, signal?: AbortSignal): Promise<LoadBalancerAnswer> {
  const [view, group] = await Promise.all([lb.loadBalancer(names, signal), lb.targetGroup(names, signal)]);
  if (!view) return { loadBalancer: null, unavailable: `no load balancer ${names.loadBalancer} (${fix})` };
  if (!group) return { loadBalancer: null, unavailable: `no target group ${names.targetGroup} (${fix})` };
  const health = await lb.targetHealth(group.arn, signal);
  const targets = health
    .map((t) => ({ instanceId: t.id, state: t.state, reason: t.reason, description: t.description === null ? null : oneLine(t.description, 200) }))
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  return { loadBalancer: { url: urlOverride ?? loadBalancerUrl(view), targets }, unavailable: null };
}
