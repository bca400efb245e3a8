import type { Ec2Peers, PeerInstance } from "../../aws/ec2-peers.js";
import { desiredGeneration, type Desired } from "../../cluster/desired.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import {
  census,
  confirmClaim,
  decideRepair,
  isLive,
  seenInstance,
  hasServed,
  slotOf,
  withChecks,
  type ClaimSeen,
  type InstanceCheck,
  type Listing,
  type RepairAction,
  type RepairDecision,
  type RepairOutcome,
  type RetireSelfReason,
} from "../../repair/index.js";
import type { DesiredReader } from "./desired-reader.js";
import type { RepairLaunches } from "./repair-launches.js";
import type { RepairSection } from "../../cluster/status-document.js";
import type { RepairStore } from "./repair-store.js";
import { messageOf } from "../../core/errors.js";

/** /status `repair`, but what the watch adds (`watching`, `checks`): the status document's own shape. */
export type RepairStatus = Omit<RepairSection, "watching" | "checks">;

export interface RepairerDeps {
  /** `readOnce` right before a claim: the view a census used may be a poll (15 s) old. */
  desired: Pick<DesiredReader, "current" | "readOnce">;
  store: Pick<RepairStore, "claimsOf" | "claim" | "recentOutcomes" | "writeOutcome">;
  launches: Pick<RepairLaunches, "has" | "runningIn" | "prepare" | "status">;
  /** Re-reads one instance before acting on a listing's word (a keeper, a holder that never served). */
  ec2: Pick<Ec2Peers, "describeOne">;
  clock: Clock;
  log: Logger;
  /** Drains through the load balancer like SIGTERM, then terminates this instance (dry run honoured). */
  retireSelf(reason: RetireSelfReason): void;
  /** TerminateInstances on a holder that never served (dry run honoured). */
  terminateOther(instanceId: string, signal: AbortSignal): Promise<void>;
}

/**
 * The worker's side of repair (issue 12): it feeds decideRepair (src/repair, pure) what this member
 * saw, its own listings (each one is a census), the watch's EC2 checks, the claims of empty slots
 * and the recent outcomes, and does what it says: claim and launch through the failover's spawn
 * path, retire itself (surplus or duplicate), retire a holder that never served. Evaluations run one
 * at a time; one asked for meanwhile runs right after. A decision's `wakeAt` (a later rank's turn)
 * asks for the next one.
 */
export class Repairer {
  private listing: Listing | undefined;
  private readonly checks = new Map<string, InstanceCheck>();
  private noticed: Record<string, number> = {};
  private decision: RepairDecision | undefined;
  private slot: number | null = null;
  private running: Promise<void> | undefined;
  private again = false;
  private wake: { at: number; timer: AbortController } | undefined;
  private retiring = false;
  private readonly terminated = new Set<string>();
  private lastNote: string | undefined;
  private failing = false;
  /** The desired size the last evaluation decided with. */
  private decidedWith: Desired | undefined;

  constructor(
    private readonly deps: RepairerDeps,
    private readonly self: string,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener("abort", () => this.wake?.timer.abort(), { once: true });
  }

  get lastListing(): Listing | undefined {
    return this.listing;
  }

  /** An own listing (every state): the census's input. */
  onListing(instances: readonly PeerInstance[], at: number): Listing {
    this.listing = { at, instances: instances.map(seenInstance) };
    // A check older than this listing says nothing the listing does not.
    for (const [id, check] of this.checks) if (check.at <= at) this.checks.delete(id);
    this.poke();
    return this.listing;
  }

  /** A watcher's EC2 check of one member: fresher than the listing. */
  onCheck(check: InstanceCheck): void {
    this.checks.set(check.id, check);
    this.poke();
  }

  /** This member is leaving (its failover, a SIGTERM, its own retirement): it claims nothing more. */
  stopClaiming(): void {
    this.retiring = true;
  }

  status(): RepairStatus {
    const desired = this.deps.desired.current;
    return {
      active: desired.kind === "known" && !this.retiring && (this.decision?.active ?? false),
      desired: desired.kind === "known" ? desired.desired.workers : null,
      slot: this.slot,
      paused: this.decision?.paused ?? false,
      note: desired.kind === "absent" ? "no desired size (cluster/desired.json): repair is inactive" : (this.decision?.note ?? null),
      claims: this.deps.launches.status(),
    };
  }

  /** Evaluates now, or right after the evaluation under way. Resolves when that one is done. */
  poke(): Promise<void> {
    if (this.signal.aborted) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.evaluate().then(
          () => {
            if (this.failing) this.deps.log.info({}, "repair: evaluations work again");
            this.failing = false;
          },
          (error: unknown) => {
            if (this.signal.aborted) return;
            // Once at warn (S3 or EC2 trouble lasts): its repeats at debug, its end at info.
            this.deps.log[this.failing ? "debug" : "warn"]({ error: messageOf(error) }, "repair: evaluation failed; tried again at the next listing");
            this.failing = true;
          },
        );
      } while (this.again && !this.signal.aborted);
      this.running = undefined;
    })();
    return this.running;
  }

  private async evaluate(): Promise<void> {
    const desiredView = this.deps.desired.current;
    const listing = this.listing;
    if (desiredView.kind !== "known" || !listing) return;
    const { clock } = this.deps;
    const desired = desiredView.desired;
    const now = clock.now();
    const checks = [...this.checks.values()];
    // The census first, to list only what matters: the claims of empty slots, and the outcomes
    // (the pause rule) only when something may be claimed. A steady cluster costs no S3 call.
    const before = census({ desired: desired.workers, generation: desiredGeneration(desired), listing, checks, now });
    this.slot = [...before.holders.values()].flat().find((h) => h.instance.id === this.self)?.slot ?? null;
    const needsClaims = before.empty.length > 0 || before.neverServed.length > 0;
    const [claims, outcomes] = needsClaims
      ? await Promise.all([
          Promise.all(before.empty.map((e) => this.deps.store.claimsOf(e.slot, this.signal))).then((lists) => lists.flat()),
          this.deps.store.recentOutcomes(desired, this.signal),
        ])
      : [[] as ClaimSeen[], [] as RepairOutcome[]];
    const decision = decideRepair({ self: this.self, now: clock.now(), desired, listing, checks, claims: { at: clock.now(), seen: claims }, outcomes, noticed: this.noticed });
    this.decision = decision;
    this.decidedWith = desired;
    this.noticed = decision.noticed;
    if (decision.note !== this.lastNote) {
      this.lastNote = decision.note;
      if (decision.note) this.deps.log[decision.paused ? "warn" : "debug"]({ note: decision.note, paused: decision.paused }, `repair: ${decision.note}`);
    }
    for (const action of decision.actions) await this.act(action);
    if (decision.wakeAt !== undefined) this.wakeAt(decision.wakeAt);
  }

  private async act(action: RepairAction): Promise<void> {
    const { log } = this.deps;
    switch (action.kind) {
      case "claim-launch": {
        // Its own launch into this slot may not be listed yet (a view older than the launch): the
        // slot looks empty and its claim unaccounted for, but this member knows better.
        if (this.retiring || this.deps.launches.has(action.name) || this.deps.launches.runningIn(action.slot)) return;
        // The census used the desired size of the last poll, up to 15 s old. A scale-down's surplus
        // retires the moment it reads the lower size, so a member that has not read it yet would see
        // the slot just vacated as empty and refill it. The surplus read the new size before it
        // retired, and this member saw the retirement after that: a read now sees the new size too
        // (S3 reads after writes). A conditional GET, only when about to claim.
        const fresh = await this.deps.desired.readOnce(this.signal);
        const decided = this.decidedWith;
        if (fresh.kind !== "known" || !decided || fresh.desired.setAt !== decided.setAt || fresh.desired.workers !== decided.workers) {
          log.info({ claim: action.name, desired: fresh.kind === "known" ? fresh.desired.workers : null }, "repair: the desired size changed since the census; deciding again before any claim");
          void this.poke(); // runs right after this evaluation
          return;
        }
        // The failure an earlier claimant never recorded, first: the pause rule must count it
        // whatever happens to this claim (a second writer's 412 is fine).
        if (action.missingOutcome) {
          await this.deps.store.writeOutcome(action.missingOutcome, this.signal).catch((error: unknown) => log.warn({ error: messageOf(error) }, "repair: the missing outcome record could not be written"));
        }
        // The replacement's request is read first: a read that fails leaves no claim behind.
        const claim = { slot: action.slot, cause: action.cause, name: action.name, doomed: action.doomed };
        const start = await this.deps.launches.prepare(claim, this.signal);
        // No answer (a timed-out PutObject is not retried) may still mean S3 created it: asked once
        // more, our own claim answers "own" and the launch goes on; otherwise the claim would hold
        // the slot unlaunched for CLAIM_STALE_MS.
        const result = await this.deps.store.claim(action.body, this.signal).catch((error: unknown) => {
          if (this.signal.aborted) throw error;
          log.info({ claim: action.name, error: messageOf(error) }, "repair: the claim got no answer; asking again");
          return this.deps.store.claim(action.body, this.signal);
        });
        if (result.kind === "taken") {
          log.debug({ claim: action.name, claimer: result.claimer }, "repair: another member holds this claim; it launches");
          return;
        }
        // Another claim on the slot, named from another view (another cause), as old as ours or
        // older: it launches, this one backs off (src/repair confirmClaim).
        const listing = this.listing!;
        const view = { at: listing.at, instances: withChecks(listing.instances, [...this.checks.values()], listing.at) };
        if (confirmClaim(action.name, await this.deps.store.claimsOf(action.slot, this.signal), view, slotOf) === "back-off") {
          log.info({ claim: action.name, slot: action.slot }, "repair: an older claim on this slot came first; backing off");
          return;
        }
        log.info({ claim: action.name, slot: action.slot, cause: action.cause, attempt: action.attempt }, result.kind === "own" ? "repair: resuming this member's claim" : "repair: claimed an empty slot; launching its replacement");
        await start();
        return;
      }
      case "retire-self": {
        if (this.retiring) return;
        // A keeper that died since the listing must not take both holders with it.
        if (action.keep !== undefined) {
          const keep = await this.deps.ec2.describeOne(action.keep, this.signal);
          if (keep === "gone" || !isLive(seenInstance(keep))) {
            log.info({ keep: action.keep }, "repair: the other holder of this slot is gone: this worker stays");
            return;
          }
        }
        this.retiring = true;
        log.warn({ reason: action.reason, slot: action.slot, keep: action.keep }, action.reason === "surplus" ? `repair: slot ${action.slot} is beyond the desired size: this worker drains and terminates itself` : `repair: slot ${action.slot} has two holders; ${action.keep ?? "the other"} stays, this worker drains and terminates itself`);
        this.deps.retireSelf(action.reason);
        return;
      }
      case "retire-other": {
        if (this.terminated.has(action.instanceId)) return;
        // The listing may predate its first serving: only what EC2 says now counts.
        const now = await this.deps.ec2.describeOne(action.instanceId, this.signal);
        // (A worker of an older synkti serves without SynktiServedAt: its state says so.)
        if (now === "gone" || hasServed(now.tags) || !isLive(seenInstance(now))) return;
        this.terminated.add(action.instanceId);
        log.warn({ instanceId: action.instanceId, slot: action.slot }, "repair: a holder never served within 30 minutes of its launch: terminating it (its slot is then repaired)");
        await this.deps.terminateOther(action.instanceId, this.signal).catch((error: unknown) => {
          this.terminated.delete(action.instanceId);
          log.warn({ instanceId: action.instanceId, error: messageOf(error) }, "repair: could not terminate the holder that never served; tried again at the next census");
        });
        return;
      }
    }
  }

  /** One timer, for the earliest turn asked for. */
  private wakeAt(at: number): void {
    if (this.wake && this.wake.at <= at && !this.wake.timer.signal.aborted) return;
    this.wake?.timer.abort();
    const wake = (this.wake = { at, timer: new AbortController() });
    this.deps.clock.sleep(Math.max(0, at - this.deps.clock.now()), AbortSignal.any([this.signal, wake.timer.signal])).then(
      () => {
        if (this.wake === wake) this.wake = undefined;
        void this.poke();
      },
      () => {},
    );
  }
}
