import type { AwsClients } from "../../aws/clients.js";
import { deregisterInstance, lookupTargetGroup, registerInstance, type TargetGroupRef } from "../../aws/elbv2-targets.js";
import { classifyAwsError } from "../../aws/errors.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { LatestWriter } from "../state/latest-writer.js";

/** The three ELBv2 calls, so unit tests can play AWS (the agent passes `elbTargetGroupApi`). */
export interface TargetGroupApi {
  lookup(name: string, signal?: AbortSignal): Promise<TargetGroupRef | undefined>;
  register(group: TargetGroupRef, instanceId: string, signal?: AbortSignal): Promise<void>;
  deregister(group: TargetGroupRef, instanceId: string, signal?: AbortSignal): Promise<void>;
}

export function elbTargetGroupApi(clients: AwsClients): TargetGroupApi {
  return {
    lookup: (name, signal) => lookupTargetGroup(clients, name, signal),
    register: (group, id, signal) => registerInstance(clients, group, id, signal),
    deregister: (group, id, signal) => deregisterInstance(clients, group, id, signal),
  };
}

type Membership = "registered" | "deregistered";

/**
 * This instance in the project's target group, joined and left by the worker itself. Written like
 * the worker's tags (LatestWriter): `join`/`leave` return at once, one call at a time, a failed call
 * (throttling, a transient error) retried every `retryMs` with the latest wish, so a stale join
 * never lands after a leave. Every `join` sends RegisterTargets again (AWS: a no-op when already
 * registered), so a worker whose target was deregistered meanwhile (by `synkti down`, by hand) is
 * back after its model server's next start. The group is looked up by name once and cached; a
 * group that vanished (infra destroyed and made again) is looked up afresh.
 */
export class TargetRegistration {
  private group: TargetGroupRef | undefined;
  private landed: Membership | undefined;
  private readonly writer: LatestWriter<Membership>;

  constructor(
    private readonly deps: { api: TargetGroupApi; clock: Clock; log: Logger },
    private readonly options: { targetGroup: string; instanceId: string; retryMs: number; known?: TargetGroupRef },
  ) {
    this.group = options.known;
    this.writer = new LatestWriter(deps, (want, signal) => this.write(want, signal), { what: `membership in target group ${options.targetGroup}`, retryMs: options.retryMs });
  }

  join(): void {
    this.writer.set("registered");
  }

  leave(): void {
    this.writer.set("deregistered");
  }

  /** What AWS last accepted: true while registered. */
  get registered(): boolean {
    return this.landed === "registered";
  }

  /** Waits until the latest join/leave landed, at most `timeoutMs`; true if it did. */
  flush(timeoutMs: number): Promise<boolean> {
    return this.writer.flush(timeoutMs);
  }

  close(graceMs: number): Promise<boolean> {
    return this.writer.close(graceMs);
  }

  private async write(want: Membership, signal: AbortSignal): Promise<void> {
    const { api, log } = this.deps;
    const group = (this.group ??= await api.lookup(this.options.targetGroup, signal));
    if (!group) throw new Error(`target group ${this.options.targetGroup} not found (synkti infra up --project-name <project> makes it)`);
    try {
      if (want === "registered") await api.register(group, this.options.instanceId, signal);
      else await api.deregister(group, this.options.instanceId, signal);
    } catch (error) {
      if (classifyAwsError(error) === "not-found") this.group = undefined; // made again: a new ARN
      throw error;
    }
    const changed = this.landed !== want;
    this.landed = want;
    const line = want === "registered" ? "registered this instance with the load balancer's target group" : "deregistered this instance from the load balancer's target group";
    log[changed ? "info" : "debug"]({ targetGroup: group.name, instanceId: this.options.instanceId, port: group.port }, line);
  }
}
