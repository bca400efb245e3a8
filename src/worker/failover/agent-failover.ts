import type { AwsClients } from "../../aws/clients.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import type { ImdsClient } from "../../context/imds-client.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { FailoverRunner, type Notice } from "../../failover/runner.js";
import type { ProjectNames } from "../../infra/names.js";
import type { InstanceFacts } from "../../preflight/worker/context.js";
import type { WorkerOptions } from "../options.js";
import type { StatusDocument } from "../../cluster/status-document.js";
import type { TraceStore } from "../trace/trace-store.js";
import { workerFailoverPorts, type WorkerFailoverHooks } from "./ports.js";
import { readReplacementTemplate, type ReplacementTemplate } from "./replacement-spec.js";
import type { FailoverPorts } from "../../failover/ports.js";
import type { Doomed, FailoverSettings } from "../../failover/types.js";
import { downHasBegun } from "../load-balancer/stop-marker.js";
import { parseSlot } from "../../repair/slot.js";
import { fileStateStore } from "./state-store.js";
import { TimelineRecord } from "./timeline-record.js";
import { messageOf } from "../../core/errors.js";

export interface AgentFailoverDeps {
  clients: AwsClients;
  imds: ImdsClient;
  store: TraceStore;
  clock: Clock;
  log: Logger;
  names: ProjectNames;
  facts: InstanceFacts;
  targetGroupArn: string | undefined;
  hooks: WorkerFailoverHooks;
  /**
   * Claims `<slot>-<this instance's id>` before the replacement's first launch (issue 12): a
   * repairer that later finds this worker dead never launches for it too. Called only when this
   * worker has a SynktiSlot; "refuse" when another member holds the claim.
   */
  claim?(slot: number, signal: AbortSignal): Promise<{ refuse: string } | undefined>;
}

/**
 * The failover as the agent runs it: the runner (src/failover) with the worker's ports, its state
 * file on local disk, and its timeline published on /status and in S3. The replacement's request
 * is read ahead of any notice (user-data, group, subnets, image), so a notice costs one
 * RunInstances, not five reads first; a read that failed is tried again when it is needed.
 */
export class AgentFailover {
  readonly runner: FailoverRunner;
  private readonly record: TimelineRecord;
  private template: Promise<ReplacementTemplate> | undefined;
  /**
   * The runner's settings. The launch's type list arrives with the template (this worker's own
   * tags, through IMDS); it is filled in place before anyone sees the template, so SELECT, which
   * waits for the template, always ranks with the launch's order.
   */
  private readonly settings: FailoverSettings;

  constructor(
    private readonly deps: AgentFailoverDeps,
    private readonly options: Pick<WorkerOptions, "failover" | "model" | "modelsDir" | "tagRetryMs">,
  ) {
    const { facts, names, clock, log } = deps;
    this.record = new TimelineRecord({ store: deps.store, clock, log }, { key: names.failoverKey(facts.instanceId), retryMs: options.tagRetryMs });
    const ports = this.portsFor({ doomedId: facts.instanceId, hooks: deps.hooks, beforeLaunch: (signal) => this.claimSlot(signal) });
    const { stateDir, ...timings } = options.failover;
    this.settings = {
      project: names.project,
      doomed: { instanceId: facts.instanceId, instanceType: facts.instanceType, zone: facts.availabilityZone },
      instanceTypes: [facts.instanceType],
      onDemandFallback: false,
      ...timings,
    };
    this.runner = new FailoverRunner(
      { clock, log, ports, store: fileStateStore(stateDir), onTimeline: (timeline) => this.record.set({ doomed: facts.instanceId, status: this.runner.current.status, ...timeline }) },
      this.settings,
    );
  }

  /**
   * The failover's ports for a replacement of `doomedId` (this worker, or a dead member a repair
   * replaces): the same template, target group and stop marker, with the caller's hooks.
   */
  portsFor(input: { doomedId: string; hooks: WorkerFailoverHooks; beforeLaunch?: (signal: AbortSignal) => Promise<{ refuse: string } | undefined> }): FailoverPorts {
    const { deps } = this;
    return workerFailoverPorts({
      clients: deps.clients,
      instances: createEc2Instances(deps.clients),
      log: deps.log,
      project: deps.names.project,
      selfId: deps.facts.instanceId,
      doomedId: input.doomedId,
      template: (signal) => this.readTemplate(signal),
      targetGroupArn: deps.targetGroupArn,
      hooks: input.hooks,
      downBegun: (signal) => downHasBegun(deps.imds, signal),
      ...(input.beforeLaunch ? { beforeLaunch: input.beforeLaunch } : {}),
    });
  }

  /**
   * The runner's settings with another doomed (a repair's): the launch's types and on-demand
   * choice as this worker read them, so waits for the template first.
   */
  async settingsFor(doomed: Doomed, overrides: Partial<FailoverSettings>, signal?: AbortSignal): Promise<FailoverSettings> {
    await this.readTemplate(signal);
    return { ...this.settings, ...overrides, doomed };
  }

  /** Resumes a failover the state file holds; reads the replacement's request ahead of time. */
  async start(): Promise<void> {
    void this.readTemplate().catch((error: unknown) => this.deps.log.warn({ error: messageOf(error) }, "the replacement's launch request could not be read yet; it is read again on a notice"));
    await this.runner.start();
  }

  notice(notice: Notice): Promise<void> {
    return this.runner.notice(notice);
  }

  /** /status `failover`. */
  status(): StatusDocument["failover"] {
    const state = this.runner.current;
    return state.status === "idle" ? { phase: "idle" } : { phase: state.status, ...this.runner.timeline() };
  }

  async close(graceMs: number): Promise<void> {
    this.runner.close();
    await this.record.close(graceMs);
  }

  /** The failover's claim, asked before each launch: a claim this worker already holds is its own to go on with. */
  private async claimSlot(signal: AbortSignal): Promise<{ refuse: string } | undefined> {
    if (!this.deps.claim) return undefined;
    // The census's parse: a tag it reads as no slot (an older launch, `01`) holds nothing to claim.
    const slot = parseSlot((await this.readTemplate(signal)).slot);
    return slot === undefined ? undefined : this.deps.claim(slot, signal);
  }

  private readTemplate(signal?: AbortSignal): Promise<ReplacementTemplate> {
    this.template ??= readReplacementTemplate(
      { clients: this.deps.clients, imds: this.deps.imds },
      { names: this.deps.names, facts: this.deps.facts, model: this.options.model, modelsDir: this.options.modelsDir },
      signal,
    ).then((template) => {
      Object.assign(this.settings, template.launchTypes);
      this.deps.log.info(template.launchTypes, "failover: instance types in order");
      return template;
    }, (error: unknown) => {
      this.template = undefined;
      throw error;
    });
    return this.template;
  }
}
