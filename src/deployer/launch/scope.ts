import type { FleetDeps, TerminateReport } from "../fleet/terminate.js";
import { terminateAndWait } from "../fleet/terminate.js";
import { launchSelector } from "../fleet/tags.js";
import { messageOf } from "../../core/errors.js";

export interface ScopeOptions {
  /** How long cleanup may wait for AWS to report the instances terminated. */
  cleanupDeadlineMs?: number;
  /** How long to keep looking for an instance whose RunInstances answer was lost. */
  graceMs?: number;
  intervalMs?: number;
}

/**
 * RAII for one launch: the instances it creates are owned by this object until `commit()`.
 * Disposed without a commit (an error, Ctrl-C), it terminates exactly what this launch created,
 * found by the per-launch tag (so an instance whose RunInstances answer never arrived is found
 * too) plus the ids it was told about, and waits until AWS reports them terminated. Instances of
 * other launches carry another SynktiLaunch value and are never touched.
 *
 *   await using scope = new LaunchScope(deps, project, launchId);
 *   ... scope.created(id) ...; scope.commit();
 *
 * Disposal never throws (it would hide the error that caused it); `cleanup` tells what happened.
 */
export class LaunchScope implements AsyncDisposable {
  private readonly ids = new Set<string>();
  private lostAnswers = false;
  private committed = false;
  private disposed = false;
  cleanup: TerminateReport | undefined;

  constructor(
    private readonly deps: FleetDeps,
    readonly project: string,
    readonly launchId: string,
    private readonly options: ScopeOptions = {},
  ) {}

  /** RunInstances answered with this instance. */
  created(instanceId: string): void {
    this.ids.add(instanceId);
  }

  /** A RunInstances call ended without a clear answer: it may have launched an instance. */
  answerLost(): void {
    this.lostAnswers = true;
  }

  /** The launch succeeded: the instances now belong to the cluster, not to this scope. */
  commit(): void {
    this.committed = true;
  }

  get instanceIds(): string[] {
    return [...this.ids];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.committed || this.disposed) return;
    this.disposed = true;
    const { log } = this.deps;
    log.warn({ launchId: this.launchId, instances: this.instanceIds }, `undoing launch ${this.launchId}: terminating the instances it created`);
    try {
      this.cleanup = await terminateAndWait(this.deps, {
        selector: launchSelector(this.project, this.launchId),
        knownIds: this.ids,
        graceMs: this.lostAnswers ? (this.options.graceMs ?? 15_000) : 0,
        deadlineMs: this.options.cleanupDeadlineMs ?? 10 * 60_000,
        ...(this.options.intervalMs !== undefined ? { intervalMs: this.options.intervalMs } : {}),
      });
    } catch (error) {
      const lastError = messageOf(error);
      this.cleanup = { complete: false, terminated: [], remaining: this.instanceIds.map((instanceId) => ({ instanceId, state: "unknown" })), lastError };
    }
    if (this.cleanup.complete) log.info({ terminated: this.cleanup.terminated }, `launch ${this.launchId} undone`);
    else log.error({ remaining: this.cleanup.remaining, err: this.cleanup.lastError }, `launch ${this.launchId}: some instances are not confirmed terminated`);
  }
}
