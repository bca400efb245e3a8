import type { Ec2Peers } from "../../aws/ec2-peers.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { TAG_ENDPOINT, TAG_NOTICE, TAG_PLAN, TAG_SERVED_AT, TAG_STATE, type ProjectNames, type WorkerState } from "../../infra/names.js";
import type { InterruptionEvent } from "../interruption/monitors.js";
import { readLogTail } from "../trace/boot-log.js";
import { failureRecord, type FailureRecord } from "../trace/failure-record.js";
import type { TraceStore } from "../trace/trace-store.js";
import { LatestWriter } from "./latest-writer.js";
import { SelfTags } from "./self-tags.js";
import { nextState, noticeValue } from "./worker-state.js";

export interface WorkerReporterDeps {
  ec2: Pick<Ec2Peers, "tagSelf">;
  store: TraceStore;
  clock: Clock;
  log: Logger;
}

export interface WorkerReporterOptions {
  instanceId: string;
  names: Pick<ProjectNames, "failureRecordKey" | "bootLogKey">;
  /** The file user-data tees its own and the agent's output into (SYNKTI_BOOT_LOG); none: no .log. */
  bootLog: string | undefined;
  /** A failed tag or S3 write is retried this often. */
  retryMs: number;
  /** Secret values the agent holds (filled once read): never uploaded with the log. */
  secrets?: ReadonlySet<string>;
}

/**
 * What a worker tells the world about itself without being asked, since a laptop outside the VPC
 * cannot ask it: its state and a pending notice as tags on its own instance, the tail of its boot
 * log in S3 on every change (`checkpoints/logs/<id>.log`), and, when it ends itself, a failure record
 * (`checkpoints/logs/<id>.json`). Every call returns at once; writes run in the background, are
 * retried, and the latest value always wins (LatestWriter). Nothing here can stop the agent.
 */
export class WorkerReporter {
  private current: WorkerState | undefined;
  /** When this agent first published `serving` (SynktiServedAt): set once per agent (a restarted agent sets its own). */
  private servedAt: string | undefined;
  private published: { value: string; fromSpotNotice: boolean } | undefined;
  private readonly tags: SelfTags;
  private readonly bootLog: LatestWriter<number>;
  private readonly record: LatestWriter<FailureRecord>;
  private logVersion = 0;

  constructor(
    private readonly deps: WorkerReporterDeps,
    private readonly options: WorkerReporterOptions,
  ) {
    const { instanceId, names, retryMs } = options;
    this.tags = new SelfTags(deps, instanceId, retryMs);
    this.bootLog = new LatestWriter(deps, (_, signal) => this.uploadLog(signal), { what: "boot log in S3", retryMs });
    this.record = new LatestWriter(
      deps,
      async (record, signal) => {
        await deps.store.put(names.failureRecordKey(instanceId), `${JSON.stringify(record)}\n`, "application/json", signal);
        deps.log.info({ key: names.failureRecordKey(instanceId) }, "left a failure record");
      },
      { what: "failure record in S3", retryMs },
    );
  }

  endpoint(endpoint: string): void {
    this.tags.set({ [TAG_ENDPOINT]: endpoint });
  }

  /** The standing failover plan's readiness (SynktiPlan: `ready` or the problem's code). */
  plan(value: string): void {
    this.tags.set({ [TAG_PLAN]: value });
  }

  /** Publishes `proposed` unless the worker is further along (see nextState); the log follows. */
  state(proposed: WorkerState, refreshLog = true): void {
    const next = nextState(this.current, proposed);
    if (next === this.current) return;
    this.current = next;
    // The first `serving` carries SynktiServedAt in the same CreateTags: repair tells an instance
    // that never served (stuck boot, weights failing) from one that did by this tag alone.
    const first = next === "serving" && this.servedAt === undefined;
    if (first) this.servedAt = new Date(this.deps.clock.now()).toISOString();
    this.tags.set({ [TAG_STATE]: next, ...(first ? { [TAG_SERVED_AT]: this.servedAt! } : {}) });
    if (refreshLog) this.refreshLog();
  }

  notice(event: InterruptionEvent): void {
    const value = noticeValue(event, this.published);
    if (value === undefined || value === this.published?.value) return;
    this.published = { value, fromSpotNotice: event.kind === "spot-interruption" };
    this.tags.set({ [TAG_NOTICE]: value });
    this.refreshLog();
  }

  /**
   * The worker ends itself: `failed`, the record, then the log (read after the record landed, so
   * the lines that said why have reached the file). Waits at most `waitMs` (the caller terminates
   * the instance next); true when all of it landed.
   */
  async fail(exitCode: number, reason: string, waitMs: number): Promise<boolean> {
    const deadline = this.deps.clock.now() + waitMs;
    const left = () => Math.max(0, deadline - this.deps.clock.now());
    this.state("failed", false);
    this.record.set(failureRecord(this.options.instanceId, this.deps.clock.now(), exitCode, reason));
    const recorded = await this.record.flush(left());
    this.refreshLog();
    const [tagged, logged] = await Promise.all([this.tags.flush(left()), this.bootLog.flush(left())]);
    return recorded && tagged && logged;
  }

  /** Waits (at most `timeoutMs`) until the tags set so far landed; true when they did. */
  flushTags(timeoutMs: number): Promise<boolean> {
    return this.tags.flush(timeoutMs);
  }

  /** Gives what is still pending up to `graceMs` to land, then stops every writer. */
  async close(graceMs: number): Promise<void> {
    await Promise.all([this.tags.close(graceMs), this.bootLog.close(graceMs), this.record.close(graceMs)]);
  }

  private refreshLog(): void {
    if (this.options.bootLog) this.bootLog.set(++this.logVersion);
  }

  private async uploadLog(signal: AbortSignal): Promise<void> {
    const tail = await readLogTail(this.options.bootLog!, undefined, this.options.secrets);
    if (tail === undefined) {
      this.deps.log.debug({ file: this.options.bootLog }, "no boot log to leave in S3 (unreadable)");
      return;
    }
    await this.deps.store.put(this.options.names.bootLogKey(this.options.instanceId), tail, "text/plain; charset=utf-8", signal);
  }
}
