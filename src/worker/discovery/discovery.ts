import type { Ec2Peers, PeerInstance } from "../../aws/ec2-peers.js";
import { classifyAwsError } from "../../aws/errors.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { PeerStatus } from "../../cluster/status-document.js";
import { workerSelector } from "../../infra/names.js";
import { DEFAULT_DISCOVERY_BUDGET, firstPhaseMs, jittered, listingIntervalMs, throttledIntervalMs, type DiscoveryBudget } from "./budget.js";
import { Membership } from "./membership.js";
import { messageOf } from "../../core/errors.js";

export interface DiscoveryDeps {
  /** `list` (every state) when repair reads the listings too (`onListing`), else `listRunning`. */
  ec2: Pick<Ec2Peers, "listRunning"> & Partial<Pick<Ec2Peers, "list">>;
  clock: Clock;
  log: Logger;
  /** Uniform in [0, 1): Math.random in production, seeded in tests and benches. */
  random: () => number;
  /** GET a peer's /status; rejects when the peer does not answer in time. */
  /** Must refuse an answer from anyone but `expect` (a stale endpoint now held by another instance). */
  askPeer: (endpoint: string, expect: { instanceId: string; project: string }, signal: AbortSignal) => Promise<PeerStatus>;
  /**
   * Repair's census (issue 12) on each own listing: every instance of the project in any state, with
   * its tags and launch time (pending ones hold a slot; stopped or terminated ones, while EC2 still
   * shows them, name a slot's last holder). The same DescribeInstances call, not a second one: the
   * budget counts its pages. Membership still takes only the running ones.
   */
  onListing?: (instances: readonly PeerInstance[], at: number) => void;
  /** Members asked every round besides the rotation (a watcher's watched members). */
  watched?: () => readonly { instanceId: string; endpoint: string }[];
  /** After each round: who answered and who did not (a watcher checks the silent ones with EC2). */
  onRound?: (asked: readonly { instanceId: string; answered: boolean }[], at: number) => void;
}

export interface DiscoveryOptions {
  project: string;
  self: string;
  budget: DiscoveryBudget;
  /** How often a round of peer asks runs. */
  peerRoundMs: number;
  /** Peers asked per round: bounds each member's outgoing (and, on average, incoming) asks. */
  fanout: number;
}

export const DEFAULT_DISCOVERY_OPTIONS = { budget: DEFAULT_DISCOVERY_BUDGET, peerRoundMs: 5000, fanout: 8 };

export interface DiscoveryStats {
  listings: number;
  describeCalls: number;
  lastListingAt: number | null;
  nextListingAt: number | null;
}

/**
 * Peer discovery within the budget of budget.ts: list on joining, then every T_i (first at a random
 * phase), and in between ask a few peers' /status each round. Errors never stop it: a failed
 * listing waits for its next turn (a throttled one doubles the wait), a peer that does not answer
 * is marked unreachable.
 */
export class Discovery {
  readonly membership: Membership;
  readonly stats: DiscoveryStats = { listings: 0, describeCalls: 0, lastListingAt: null, nextListingAt: null };
  private callsPerListing = 1;
  private throttles = 0;
  private joined = false;
  /** Whether the last listing failed: a failure is news once (warn), its repeats are not. */
  private failing = false;

  constructor(
    private readonly deps: DiscoveryDeps,
    private readonly options: DiscoveryOptions,
  ) {
    this.membership = new Membership(options.self);
  }

  /** Starts from a listing someone else made (a bench's steady state); the next own one is at a random phase. */
  seed(instances: readonly PeerInstance[], at: number): void {
    this.membership.applyListing(instances, at);
    this.joined = true;
  }

  /** One own listing; false when it failed. */
  async listOnce(signal?: AbortSignal): Promise<boolean> {
    try {
      const { ec2, onListing } = this.deps;
      const everyState = onListing !== undefined && ec2.list !== undefined;
      const listing = everyState ? await ec2.list!(workerSelector(this.options.project), undefined, signal) : await ec2.listRunning(workerSelector(this.options.project), signal);
      const at = this.deps.clock.now();
      const before = this.membership.size();
      this.membership.applyListing(everyState ? listing.instances.filter((i) => i.state === undefined || i.state === "running") : listing.instances, at);
      Object.assign(this.stats, { listings: this.stats.listings + 1, describeCalls: this.stats.describeCalls + listing.calls, lastListingAt: at });
      this.callsPerListing = listing.calls;
      this.throttles = 0;
      // Every listing at debug; a change of size or a recovery at info (an idle cluster stays quiet).
      const fields = { members: this.membership.size(), calls: listing.calls };
      if (this.failing) this.deps.log.info(fields, "listing the cluster works again");
      else if (this.membership.size() !== before) this.deps.log.info({ ...fields, before }, "cluster size changed");
      else this.deps.log.debug(fields, "listed the cluster");
      this.failing = false;
      if (onListing) {
        try {
          onListing(listing.instances, at);
        } catch (error) {
          this.deps.log.warn({ error: messageOf(error) }, "repair could not read the listing");
        }
      }
      return true;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (classifyAwsError(error) === "throttled") this.throttles += 1;
      const fields = { error: messageOf(error), throttles: this.throttles };
      if (this.failing) this.deps.log.debug(fields, "listing the cluster still fails");
      else this.deps.log.warn(fields, "listing the cluster failed; next try at the next turn");
      this.failing = true;
      return false;
    }
  }

  /** The listing loop; returns when `signal` aborts. */
  async runListings(signal: AbortSignal): Promise<void> {
    const { clock, random } = this.deps;
    let first = true;
    if (!this.joined) this.joined = await this.listOnce(signal).catch(() => false);
    while (!signal.aborted) {
      const base = listingIntervalMs(this.membership.size(), this.callsPerListing, this.options.budget);
      const interval = throttledIntervalMs(base, this.throttles, this.options.budget);
      // Before a successful join there is no N: retry at the floor, not at a random phase of nothing.
      const wait = !this.joined ? this.options.budget.minIntervalMs : first ? firstPhaseMs(interval, random) : jittered(interval, random, this.options.budget);
      this.stats.nextListingAt = clock.now() + wait;
      try {
        await clock.sleep(wait, signal);
      } catch {
        return;
      }
      const ok = await this.listOnce(signal).catch(() => false);
      if (!this.joined) this.joined = ok;
      else first = false;
    }
  }

  /** One round of asks; peers are asked concurrently, each under the caller's own timeout. */
  async askRound(signal?: AbortSignal): Promise<void> {
    // The watched members first, every round; then the rotation (without asking anyone twice).
    const watched = this.deps.watched?.() ?? [];
    const ids = new Set(watched.map((w) => w.instanceId));
    const targets = [...watched, ...this.membership.toAsk(this.options.fanout).filter((t) => !ids.has(t.instanceId))];
    const asked: { instanceId: string; answered: boolean }[] = [];
    await Promise.all(
      targets.map(async ({ instanceId, endpoint }) => {
        const controller = new AbortController();
        const onAbort = () => controller.abort(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        try {
          const status = await this.deps.askPeer(endpoint, { instanceId, project: this.options.project }, controller.signal);
          this.membership.applyPeerStatus(status, this.deps.clock.now());
          asked.push({ instanceId, answered: true });
        } catch (error) {
          if (signal?.aborted) return;
          asked.push({ instanceId, answered: false });
          this.deps.log.debug({ peer: instanceId, endpoint, error: messageOf(error) }, "peer did not answer");
          this.membership.applyAskFailure(instanceId, this.deps.clock.now());
        } finally {
          signal?.removeEventListener("abort", onAbort);
        }
      }),
    );
    if (!signal?.aborted && this.deps.onRound) {
      try {
        this.deps.onRound(asked, this.deps.clock.now());
      } catch (error) {
        this.deps.log.warn({ error: messageOf(error) }, "the watch could not read the ask round");
      }
    }
  }

  async runPeerRounds(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.askRound(signal);
      try {
        await this.deps.clock.sleep(this.options.peerRoundMs, signal);
      } catch {
        return;
      }
    }
  }
}
