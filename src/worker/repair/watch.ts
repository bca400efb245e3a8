import type { Ec2Peers } from "../../aws/ec2-peers.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import { TAG_ENDPOINT } from "../../infra/names.js";
import { LIVE_EC2_STATES, watchChecksDue, watcherRing, type InstanceCheck, type SeenInstance } from "../../repair/index.js";
import { messageOf } from "../../core/errors.js";

/**
 * This member's watch (bounded detection at any size): on the ring of the live members (ordered by
 * sha256 of their ids, src/repair), it watches the WATCHERS members after it. Discovery asks each
 * of them every ask round besides its rotation (`watched()`); after the round, the watched members
 * that did not answer are checked with EC2 as src/repair's watchChecksDue says: one that answered
 * before is checked at once, one EC2 already called alive only every watchRecheckMs(N) (so a
 * partition costs the cluster a bounded number of calls, never a launch), and a round's checks are
 * one DescribeInstances InstanceIds=[...]. Every answer goes to the repairer (`onCheck`): EC2 is the
 * only word on death (stopped, stopping, shutting-down, terminated, or an unknown id).
 */
export class Watch {
  private endpoints = new Map<string, string>();
  private watching: string[] = [];
  private clusterSize = 1;
  /** Watched members EC2 called alive since they last answered. */
  private readonly aliveChecked = new Set<string>();
  private lastCheckAt: number | undefined;
  private checking = false;
  /** DescribeInstances calls the watch made (for /status and the call budget's record). */
  calls = 0;

  constructor(
    private readonly deps: {
      ec2: Pick<Ec2Peers, "describeIds">;
      clock: Clock;
      log: Logger;
      onCheck: (check: InstanceCheck) => void;
      /** Where discovery reaches a member (a peer's gossip), when the listing predates its endpoint tag. */
      endpointOf?: (instanceId: string) => string | undefined;
    },
    private readonly self: string,
  ) {}

  /** A new own listing: the ring of its live members (this one included) and their endpoints. */
  onListing(instances: readonly SeenInstance[]): void {
    const live = instances.filter((i) => LIVE_EC2_STATES.has(i.state));
    const members = [...new Set([this.self, ...live.map((i) => i.id)])];
    this.clusterSize = members.length;
    this.endpoints = new Map(live.flatMap((i) => (i.tags[TAG_ENDPOINT] ? [[i.id, i.tags[TAG_ENDPOINT]] as const] : [])));
    const before = this.watching.join(",");
    this.watching = watcherRing(members).watchedBy(this.self);
    for (const id of this.aliveChecked) if (!this.watching.includes(id)) this.aliveChecked.delete(id);
    if (this.watching.join(",") !== before) this.deps.log.debug({ watching: this.watching }, "watching");
  }

  /** The watched members that published an endpoint (a booting one has none yet: the census covers it). */
  watched(): { instanceId: string; endpoint: string }[] {
    return this.watching.flatMap((id) => {
      const endpoint = this.endpoints.get(id) ?? this.deps.endpointOf?.(id);
      return endpoint ? [{ instanceId: id, endpoint }] : [];
    });
  }

  /** Members this one watches (nearest first). */
  get targets(): readonly string[] {
    return this.watching;
  }

  /** Discovery's round is over: check the watched members that did not answer, when due. */
  onRound(asked: readonly { instanceId: string; answered: boolean }[], at: number): void {
    const watched = asked.filter((a) => this.watching.includes(a.instanceId));
    for (const a of watched) if (a.answered) this.aliveChecked.delete(a.instanceId);
    const failed = watched.filter((a) => !a.answered).map((a) => a.instanceId);
    if (this.checking || failed.length === 0) return;
    const due = watchChecksDue({ failed, aliveChecked: this.aliveChecked, lastCheckAt: this.lastCheckAt, now: at, clusterSize: this.clusterSize });
    if (due.length === 0) return;
    // Every call counts (src/repair): a first check's answer is as fresh as a re-check's.
    this.lastCheckAt = at;
    void this.check(due);
  }

  private async check(ids: string[]): Promise<void> {
    this.checking = true;
    try {
      this.calls += 1;
      const answers = await this.deps.ec2.describeIds(ids);
      const at = this.deps.clock.now();
      for (const id of ids) {
        const seen = answers.get(id) ?? "gone";
        const check: InstanceCheck = { id, state: seen === "gone" ? "unknown" : (seen.state ?? "running"), at };
        const dead = !LIVE_EC2_STATES.has(check.state);
        if (dead) this.deps.log.warn({ instanceId: id, state: check.state }, "a watched member does not answer and EC2 says it is dead: its slot is repaired");
        else if (!this.aliveChecked.has(id)) this.deps.log.info({ instanceId: id, state: check.state }, "a watched member does not answer but EC2 says it is alive: no repair");
        if (dead) this.aliveChecked.delete(id);
        else this.aliveChecked.add(id);
        this.deps.onCheck(check);
      }
    } catch (error) {
      this.deps.log.debug({ ids, error: messageOf(error) }, "EC2 check of watched members failed; asked again after the next round");
    } finally {
      this.checking = false;
    }
  }
}
