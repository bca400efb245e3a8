import type { FleetDeps } from "./terminate.js";
import { isStopping } from "../../cluster/membership.js";
import { LIVE_STATES, projectSelector } from "./tags.js";

/**
 * `synkti leaks`: ephemeral things tagged with the project that should not exist. Permanent
 * resources (bucket, role, profile, security group) are never leaks: they exist on purpose.
 * - an instance stopped or stopping: a spot worker terminates, it never stops; a stopped one
 *   keeps its billed volume and serves nothing;
 * - an instance still alive with the stop marker: a `synkti down` that did not finish;
 * - an unattached (available) volume: billed storage nobody uses;
 * - an open spot request: it could launch an instance later, behind synkti's back.
 */
export type LeakKind = "instance" | "volume" | "spot-request";

export interface Leak {
  kind: LeakKind;
  id: string;
  state: string;
  reason: string;
  fix: string;
}

export interface LeaksResult {
  project: string;
  leaks: Leak[];
}

export async function findLeaks(deps: FleetDeps, project: string, region?: string, signal?: AbortSignal): Promise<LeaksResult> {
  const tags = projectSelector(project);
  const r = region ? ` --region ${region}` : "";
  const down = `synkti down --project-name ${project}${r}`;
  const [instances, volumes, requests] = await Promise.all([
    deps.ec2.describe({ tags, states: LIVE_STATES }, signal),
    deps.ec2.volumes({ tags, states: ["available"] }, signal),
    deps.ec2.spotRequests({ tags, states: ["open"] }, signal),
  ]);
  const leaks: Leak[] = [];
  for (const i of instances) {
    if (i.state === "stopped" || i.state === "stopping") {
      leaks.push({ kind: "instance", id: i.instanceId, state: i.state, reason: "a spot worker should terminate, never stop: it holds a billed volume and serves nothing", fix: down });
    } else if (isStopping(i.tags) && i.state !== "shutting-down") {
      leaks.push({ kind: "instance", id: i.instanceId, state: i.state, reason: "marked for stopping by synkti down but still alive: that down did not finish", fix: down });
    }
  }
  for (const v of volumes) {
    leaks.push({ kind: "volume", id: v.volumeId, state: v.state, reason: "unattached volume: billed storage no instance uses", fix: `aws ec2 delete-volume --volume-id ${v.volumeId}${r}` });
  }
  for (const s of requests) {
    leaks.push({ kind: "spot-request", id: s.requestId, state: s.state, reason: "open spot request: it may launch an instance later", fix: `aws ec2 cancel-spot-instance-requests --spot-instance-request-ids ${s.requestId}${r}` });
  }
  return { project, leaks };
}
