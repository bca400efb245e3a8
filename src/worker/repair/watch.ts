import type { Ec2Peers } from "../../aws/ec2-peers.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { TAG_ENDPOINT } from "../../infra/names.js";
import { LIVE_EC2_STATES, WATCH_RECHECK_MS, watcherRing, type InstanceCheck, type SeenInstance, type WatcherRing } from "../../repair/index.js";

/**
 * This member's watch (bounded detection at any size): on the ring of the live members (ordered by
 * sha256 of their ids, src/repair), it watches the WATCHERS members after it. Discovery asks each
 * of them every ask round besides its rotation (`watched()`); an ask that fails triggers one EC2
 * call about that instance (DescribeInstances InstanceIds=[id]), at most once per WATCH_RECHECK_MS
 * per target while EC2 still says it is alive: a partition costs a watcher 2 calls a minute per
 * unreachable member, never a launch. Every answer goes to the repairer (`onCheck`): EC2 is the
 * only word on death (stopped, stopping, shutting-down, terminated, or an unknown id).
 */
export class Watch {
  private ring: WatcherRing | undefined;
  private endpoints = new Map<string, string>();
  private watching: string[] = [];
  private readonly lastCheck = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  /** EC2 checks made (for /status and the call budget's record). */
  checks = 0;

  constructor(
    private readonly deps: { ec2: Pick<Ec2Peers, "describeOne">; clock: Clock; log: Logger; onCheck: (check: InstanceCheck) => void },
    private readonly self: string,
    private readonly recheckMs = WATCH_RECHECK_MS,
  ) {}

  /** A new own listing: the ring of its live members (this one included) and their endpoints. */
  onListing(instances: readonly SeenInstance[]): void {
    const live = instances.filter((i) => LIVE_EC2_STATES.has(i.state));
    this.ring = watcherRing([...new Set([this.self, ...live.map((i) => i.id)])]);
    this.endpoints = new Map(live.flatMap((i) => (i.tags[TAG_ENDPOINT] ? [[i.id, i.tags[TAG_ENDPOINT]] as const] : [])));
    const before = this.watching.join(",");
    this.watching = this.ring.watchedBy(this.self);
    for (const id of this.lastCheck.keys()) if (!this.watching.includes(id)) this.lastCheck.delete(id);
    if (this.watching.join(",") !== before) this.deps.log.debug({ watching: this.watching }, "watching");
  }

  /** The watched members that published an endpoint (a booting one has none yet: the census covers it). */
  watched(): { instanceId: string; endpoint: string }[] {
    return this.watching.flatMap((id) => {
      const endpoint = this.endpoints.get(id);
      return endpoint ? [{ instanceId: id, endpoint }] : [];
    });
  }

  /** Members this one watches (nearest first). */
  get targets(): readonly string[] {
    return this.watching;
  }

  /** Discovery's ask answered or not; only a watched member's failure costs an EC2 call. */
  onAsked(instanceId: string, answered: boolean, at: number): void {
    if (answered || !this.watching.includes(instanceId) || this.inFlight.has(instanceId)) return;
    const last = this.lastCheck.get(instanceId);
    if (last !== undefined && at - last < this.recheckMs) return;
    this.lastCheck.set(instanceId, at);
    void this.check(instanceId);
  }

  private async check(instanceId: string): Promise<void> {
    this.inFlight.add(instanceId);
    try {
      this.checks += 1;
      const seen = await this.deps.ec2.describeOne(instanceId);
      const check: InstanceCheck = { id: instanceId, state: seen === "gone" ? "unknown" : (seen.state ?? "running"), at: this.deps.clock.now() };
      const dead = !LIVE_EC2_STATES.has(check.state);
      this.deps.log[dead ? "warn" : "debug"]({ instanceId, state: check.state }, dead ? "a watched member does not answer and EC2 says it is dead: its slot is repaired" : "a watched member does not answer but EC2 says it is alive: no repair (asked EC2 again in 30 s at the earliest)");
      this.deps.onCheck(check);
    } catch (error) {
      this.deps.log.debug({ instanceId, error: error instanceof Error ? error.message : String(error) }, "EC2 check of a watched member failed; asked again after the recheck interval");
    } finally {
      this.inFlight.delete(instanceId);
    }
  }
}
