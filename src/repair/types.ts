/**
 * The repair's vocabulary: what a worker has seen (instances, claims, outcomes) and what it is told
 * to do. Plain data, so src/repair needs neither the SDK nor the worker, and every decision is a
 * function of its inputs (tested with tables and a simulation).
 */
import type { Desired } from "../cluster/desired.js";
// Bodies and records: their schemas are in claims.ts and pause.ts.
import type { ClaimBody } from "./claims.js";
import type { RepairOutcome } from "./pause.js";

/** EC2's instance states. `unknown`: DescribeInstances said InvalidInstanceID.NotFound (gone). */
export type Ec2State = "pending" | "running" | "stopping" | "stopped" | "shutting-down" | "terminated" | "unknown";

/** One instance as a listing (or a single-instance check) showed it. */
export interface SeenInstance {
  id: string;
  state: Ec2State;
  /** LaunchTime, epoch ms (immutable: every member orders instances alike). */
  launchedAt: number;
  /** Its tags as listed (untrusted: a bad SynktiSlot counts as none). */
  tags: Readonly<Record<string, string>>;
  /** For the spawn of its replacement, when known. */
  instanceType?: string;
  zone?: string;
}

/** A member's own listing of the project's instances (pending and running, plus any dead ones still shown). */
export interface Listing {
  /** When the listing was taken: a view is as old as this, whatever `now` is. */
  at: number;
  instances: SeenInstance[];
}

/** A fresher answer about one instance (a watcher's DescribeInstances InstanceIds=[id]). */
export interface InstanceCheck {
  id: string;
  state: Ec2State;
  at: number;
}

/** The input of the census: the listing with fresher single-instance checks laid over it. */
export interface CensusInput {
  desired: number;
  /** desiredGeneration(desired): the cause of a slot no instance ever carried. */
  generation: string;
  listing: Listing;
  checks?: InstanceCheck[];
  /** Not used for judgement (the listing's time is): kept so a caller can pass one clock reading. */
  now: number;
}

export interface Holder {
  slot: number;
  instance: SeenInstance;
  /** An untagged live worker (older synkti) placed in the lowest empty slot by instance-id order. */
  virtual: boolean;
}

export interface EmptySlot {
  slot: number;
  /** The claim's cause base: the last instance that carried the slot, else the generation `d<ms>`. */
  cause: string;
  /** That instance, when the cause is one (the spawn's doomed: type, zone). */
  causeInstance?: SeenInstance;
}

export interface Duplicate {
  slot: number;
  /** The holder that stays (launched first; ties: the smaller instance id). */
  keep: string;
  /** The holder that retires itself. */
  retire: string;
}

export interface Census {
  desired: number;
  /** Holders by slot (slots 0..desired-1 that have holders, and surplus slots too). */
  holders: Map<number, Holder[]>;
  empty: EmptySlot[];
  /** Holders of a slot >= desired, and untagged live workers no empty slot was left for. */
  surplus: Holder[];
  duplicates: Duplicate[];
  /** Holders that have not served NEVER_SERVED_MS after launch. */
  neverServed: Holder[];
  /** Live instances (pending/running, not failed/retiring): the members that may repair. */
  live: SeenInstance[];
}

/** `checkpoints/claims/<slot>-<cause>` as listed (ListObjectsV2: key and LastModified, no GET). */
export interface ClaimSeen {
  /** `<slot>-<cause>` (the key below claimsPrefix). */
  name: string;
  slot: number;
  /** The full cause, `<base>` or `<base>.<attempt>`. */
  cause: string;
  base: string;
  /** 1 for `<base>`, n for `<base>.<n>`. */
  attempt: number;
  /** S3's LastModified, epoch ms (S3's clock, not the claimant's). */
  at: number;
}

/** What a worker passes to decideRepair, fresh each time. */
export interface RepairView {
  self: string;
  now: number;
  /** undefined: no desired.json (an older cluster), repair is inactive. */
  desired: Desired | undefined;
  listing: Listing;
  checks?: InstanceCheck[];
  /**
   * The claims the worker listed (all of `checkpoints/claims/`, or the prefixes of the slots its
   * census shows empty) and when; a claim's age is judged against `listing.at`, not this time.
   */
  claims: { at: number; seen: ClaimSeen[] };
  /** The outcome records the worker listed (`checkpoints/repair/`), parsed. */
  outcomes: RepairOutcome[];
  /**
   * The members the worker knows (its discovery's list; self included or not): the watcher ring
   * and the repairers' order. Default: the live instances of the listing.
   */
  members?: readonly string[];
  /** decideRepair's own memory, returned and passed back: when each key was first seen claimable. */
  noticed: Readonly<Record<string, number>>;
}

/** What the worker needs to spawn a replacement through the failover's spawn path. */
export interface RepairDoomed {
  /** The instance that carried the slot, when the cause is one (SynktiReplaces, the spawn's doomed). */
  instanceId?: string;
  instanceType?: string;
  zone?: string;
  slot: number;
  /**
   * A stable id for this repair, `<slot>-<cause>` (the claim's name): its state file's key, and the
   * spawn's doomed id (SynktiReplaces, ClientToken) when the cause is no instance (a slot never
   * filled) or a next attempt (`<cause>.2`); a first attempt for a dead instance uses its id, as a
   * failover does. Either way a retried launch of the same claim is the same launch.
   */
  launchId: string;
}

export type RetireSelfReason = "surplus" | "duplicate";

/**
 * What the worker does, and how each stays idempotent (an action may be repeated: decideRepair runs
 * again on the next view, the agent may restart midway):
 * - `claim-launch`: write `missingOutcome` first when present (put-if-absent at repairOutcomeKey:
 *   a second writer's 412 is fine); PutObject If-None-Match: * at claimKey(slot, cause) with `body`.
 *   "exists": do nothing (someone else repairs), unless the claim's body names this worker (a restart
 *   after its own claim: resume). "created": list the slot's claims (slotClaimsPrefix) and run
 *   confirmClaim; "launch": spawn through the failover's path with `doomed` (its search for a live
 *   SynktiReplaces=<doomed id> and a ClientToken from that id make a retried launch the same
 *   launch; see RepairDoomed.launchId). No answer to the claim's PutObject: ask once more (it may
 *   be this member's own). Right before RunInstances the desired size is read again, and the
 *   launch goes ahead only while the slot is below it. Once the replacement served or failed, write the outcome at
 *   repairOutcomeKey(slot, cause).
 * - `retire-self`: set SynktiState=retiring first (from then on it holds no slot, so the next
 *   decision does not ask again), drain like SIGTERM, terminate itself (a surplus
 *   member with a launch of its own in flight is not asked to: decideRepair keeps it while a slot
 *   below desired is empty in its view, until its listing shows the slot held). For a duplicate, re-read
 *   `keep` first and retire only if it is still pending or running.
 * - `retire-other`: re-read the instance and terminate it only if it still has no SynktiServedAt;
 *   TerminateInstances is idempotent.
 */
export type RepairAction =
  | {
      kind: "claim-launch";
      slot: number;
      cause: string;
      attempt: number;
      /** The claim's object name below claimsPrefix: `<slot>-<cause>`. */
      name: string;
      body: ClaimBody;
      doomed: RepairDoomed;
      /** An outcome the earlier claimant of this slot never wrote (its replacement is this cause). */
      missingOutcome?: RepairOutcome;
    }
  | { kind: "retire-self"; reason: RetireSelfReason; slot: number; keep?: string }
  | { kind: "retire-other"; instanceId: string; slot: number; reason: "never-served" };

export interface RepairDecision {
  active: boolean;
  /** Why nothing is done, when that is the answer (inactive, paused, not our turn yet). */
  note?: string;
  paused: boolean;
  actions: RepairAction[];
  /** Pass back as view.noticed next time. */
  noticed: Record<string, number>;
  /** Call again by then (the earliest turn of a key this member waits for), if any. */
  wakeAt?: number;
  census?: Census;
}

export type { ClaimBody, RepairOutcome };
