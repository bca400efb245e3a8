import type { Ec2Peers } from "../../aws/ec2-peers.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { WorkerSelfTags } from "../../infra/names.js";
import { LatestWriter } from "./latest-writer.js";

/**
 * The tags a worker publishes on its own instance (it stays the authority on them): how peers reach
 * it (`SynktiEndpoint`), its state (`SynktiState`) and a pending notice (`SynktiNotice`). Until the
 * endpoint lands, peers and `synkti status` cannot ask this worker anything, so a failed CreateTags
 * is retried until it works (throttling, eventual consistency of a fresh instance id). Each write
 * sends only the keys whose value changed since the last one that landed: one CreateTags a change.
 */
export class SelfTags {
  private desired: WorkerSelfTags = {};
  private readonly landed: WorkerSelfTags = {};
  private readonly writer: LatestWriter<WorkerSelfTags>;

  constructor(
    private readonly deps: { ec2: Pick<Ec2Peers, "tagSelf">; clock: Clock; log: Logger },
    private readonly instanceId: string,
    retryMs: number,
  ) {
    this.writer = new LatestWriter(deps, (tags, signal) => this.write(tags, signal), { what: "tags on this instance", retryMs });
  }

  /** Merges `tags` into what this instance should carry; a no-op when nothing changes. */
  set(tags: WorkerSelfTags): void {
    if (Object.entries(tags).every(([key, value]) => this.desired[key as keyof WorkerSelfTags] === value)) return;
    this.desired = { ...this.desired, ...tags };
    this.writer.set(this.desired);
  }

  flush(timeoutMs: number): Promise<boolean> {
    return this.writer.flush(timeoutMs);
  }

  close(graceMs: number): Promise<boolean> {
    return this.writer.close(graceMs);
  }

  private async write(desired: WorkerSelfTags, signal: AbortSignal): Promise<void> {
    const changed: Record<string, string> = Object.fromEntries(Object.entries(desired).filter(([key, value]) => value !== undefined && this.landed[key as keyof WorkerSelfTags] !== value));
    if (Object.keys(changed).length === 0) return;
    await this.deps.ec2.tagSelf(this.instanceId, changed, signal);
    Object.assign(this.landed, changed);
    this.deps.log.info({ instanceId: this.instanceId, tags: changed }, `tagged this instance: ${Object.entries(changed).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  }
}
