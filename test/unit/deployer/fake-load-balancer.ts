/**
 * An in-memory load balancer behind the ProjectLoadBalancer interface, for unit tests of endpoint,
 * status and down. It behaves like AWS, not like moto (which deregisters instantly):
 *
 * Behaviour spec:
 * - `view` (the load balancer, default: `demo-synkti` with an HTTP:80 listener) and `group` (the
 *   target group, default: delay 90 s) are what the reads answer; set either to undefined for
 *   "does not exist" (the project before `infra up`).
 * - `register(id, state = "healthy")` lists a target on the group's port 8000 (reason/description
 *   may be given). `busy` holds ids with requests in flight.
 * - `deregister(arn, targets)`: every listed target goes to `draining` at the clock's now; an id
 *   that is not registered is accepted and ignored (as AWS does for an instance of the VPC), an id
 *   in `unknownIds` fails the whole call with InvalidTarget (as AWS does for a terminated one).
 * - `targetHealth`: a draining target leaves the listing once it is not `busy` (AWS ends draining
 *   early when nothing is in flight) or once the group's delay has passed since its deregistration.
 * - `failWith[method] = error`: that method throws it (every call) until cleared.
 * - `log` records `deregister:<ids>` and `targetHealth` in call order; a test may pass its own
 *   array to interleave these with EC2's calls.
 */
import type { Clock } from "../../../src/core/clock.js";
import type { LoadBalancerView, ProjectLoadBalancer, TargetGroupView, TargetHealthInfo } from "../../../src/deployer/endpoint/load-balancer.js";
import type { ProjectNames } from "../../../src/infra/names.js";

type Method = keyof ProjectLoadBalancer;

interface Target extends TargetHealthInfo {
  drainingSince?: number;
}

export const TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/demo-synkti-vllm/0123456789abcdef";

export class FakeLoadBalancer implements ProjectLoadBalancer {
  view: LoadBalancerView | undefined = {
    name: "demo-synkti",
    dnsName: "demo-synkti-1234567890.us-east-1.elb.amazonaws.com",
    scheme: "internet-facing",
    state: "active",
    listeners: [{ protocol: "HTTP", port: 80 }],
  };
  group: TargetGroupView | undefined = { name: "demo-synkti-vllm", arn: TG_ARN, deregistrationDelaySeconds: 90 };
  readonly targets = new Map<string, Target>();
  readonly busy = new Set<string>();
  readonly unknownIds = new Set<string>();
  readonly failWith: Partial<Record<Method, Error>> = {};

  constructor(
    readonly clock: Clock,
    readonly log: string[] = [],
  ) {}

  register(id: string, state = "healthy", detail: { reason?: string; description?: string } = {}): void {
    this.targets.set(id, { id, port: 8000, state, reason: detail.reason ?? null, description: detail.description ?? null });
  }

  private check(method: Method): void {
    const error = this.failWith[method];
    if (error) throw error;
  }

  async loadBalancer(_names: ProjectNames): Promise<LoadBalancerView | undefined> {
    this.check("loadBalancer");
    return this.view && { ...this.view, listeners: [...this.view.listeners] };
  }

  async targetGroup(_names: ProjectNames): Promise<TargetGroupView | undefined> {
    this.check("targetGroup");
    return this.group && { ...this.group };
  }

  async targetHealth(arn: string): Promise<TargetHealthInfo[]> {
    this.log.push("targetHealth");
    this.check("targetHealth");
    this.expectArn(arn);
    const delayMs = (this.group?.deregistrationDelaySeconds ?? 0) * 1000;
    for (const [id, t] of this.targets) {
      if (t.drainingSince !== undefined && (!this.busy.has(id) || this.clock.now() >= t.drainingSince + delayMs)) this.targets.delete(id);
    }
    return [...this.targets.values()].map(({ drainingSince: _, ...t }) => ({ ...t }));
  }

  async deregister(arn: string, targets: Array<{ id: string; port?: number }>): Promise<void> {
    this.log.push(`deregister:${targets.map((t) => t.id).join(",")}`);
    this.check("deregister");
    this.expectArn(arn);
    const unknown = targets.find((t) => this.unknownIds.has(t.id));
    if (unknown) throw Object.assign(new Error(`The following targets are not valid instances: ${unknown.id}`), { name: "InvalidTarget", $metadata: { httpStatusCode: 400 } });
    for (const { id } of targets) {
      const t = this.targets.get(id);
      if (t && t.drainingSince === undefined) Object.assign(t, { state: "draining", reason: "Target.DeregistrationInProgress", description: "Target deregistration is in progress", drainingSince: this.clock.now() });
    }
  }

  private expectArn(arn: string): void {
    if (!this.group || arn !== this.group.arn) throw Object.assign(new Error(`One or more target groups not found`), { name: "TargetGroupNotFound", $metadata: { httpStatusCode: 400 } });
  }
}

/** An AWS refusal, shaped as the SDK raises it. */
export const accessDenied = (action: string) =>
  Object.assign(new Error(`User is not authorized to perform: elasticloadbalancing:${action}`), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
