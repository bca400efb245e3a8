/**
 * A small world for the repair rule: EC2's truth, S3's conditional writes and N workers running
 * decideRepair on views of differing ages, for the property test (repair.property.test.ts).
 *
 * Behaviour spec (what it models, and what it leaves out on purpose). One file (~360 lines): the
 * world and its workers share one clock and one truth, read and changed in the same loop.
 * - Time advances in 1 s ticks. EC2's LaunchTime and S3's LastModified are whole seconds (as AWS).
 * - EC2: an instance is pending 20-90 s, then running; its agent answers asks from then on and
 *   sets SynktiState=serving with SynktiServedAt 10-60 s later. A kill is silent: the instance is
 *   terminated at once, no notice, no failover. Terminated instances drop out of listings
 *   `forgetAfterS` after they ended (EC2 keeps them about an hour; shorter here, so two views name
 *   one empty slot's cause differently; never under CLAIM_STALE_MS, which EC2 does not do either).
 * - S3: claims by name, created only when absent (If-None-Match: *), listed with LastModified.
 * - A worker lists EC2 every `listEveryMs` (its own, from 30 s to 5 min: views of differing ages).
 *   Its members are its listing's live instances. Every ask round (5 s) it asks the members it
 *   watches (watcherRing); failed asks (dead, still booting, or partitioned from it) cost EC2
 *   checks as watchChecksDue says (one call a round at most), answered within 2 s.
 *   It runs decideRepair each round, at the wake time it was given and when a check answers, and
 *   executes the actions: claim (then confirmClaim on the slot's claims), launch 0-5 s later
 *   (killed claimants never launch: the claim goes stale), retire itself (retiring at once,
 *   terminated after a 10 s drain; a duplicate only if the one it leaves the slot to is alive),
 *   terminate another.
 * - Kills never take the last running worker: repair needs a survivor (a total loss is the
 *   deployer's). An instance still pending is no worker yet.
 * - Partitions: for a while, asks between some pairs fail while EC2 says both are running.
 * - Extras: an instance that appears in a held slot (no claim): the later of two holders retires.
 * - Scaling: at `scale[].atS` the deployer claims `<k>-<new generation>` for each empty slot below
 *   the new size, then writes desired.json (claims before desired: src/repair/README.md), and
 *   launches into them 2 s later; each worker reads the new desired within 15 s. Surplus retires.
 * - Left out: the failover (spot notices), never-serving boots and the pause
 *   (table-tested), throttling.
 */
import { projectNames, TAG_REPLACES, TAG_SERVED_AT, TAG_SLOT, TAG_STATE } from "../../../src/infra/names.js";
import {
  ASK_ROUND_MS,
  confirmClaim,
  decideRepair,
  nextAttempt,
  parseClaimKey,
  slotOf,
  watchChecksDue,
  watcherRing,
  type ClaimSeen,
  type Ec2State,
  type InstanceCheck,
  type Listing,
  type SeenInstance,
} from "../../../src/repair/index.js";
import type { Desired } from "../../../src/cluster/desired.js";
import { seededRandom } from "../../support/seeded-random.js";

export const SIM_START = Date.parse("2026-11-29T08:00:00Z");
const names = projectNames("sim");
const second = (ms: number) => Math.floor(ms / 1000) * 1000;

export interface Scenario {
  desired: number;
  /** Silent kills: at `atS` seconds, the instances in these live slots (or any live instance). */
  kills: Array<{ atS: number; slots: number[]; /** Also kill this many of each victim's nearest watchers. */ withWatchers?: number }>;
  /** An extra instance appears in a held slot (a launch whose answer was lost, retried): a duplicate. */
  extras?: Array<{ atS: number; slot: number }>;
  /** The first this many claimants die right after their claim is created, before launching. */
  claimantDeaths: number;
  /** Asks between these slots' holders fail both ways from `fromS` to `toS` (EC2 says running). */
  partitions: Array<{ fromS: number; toS: number; a: number; b: number }>;
  /** Drives every delay and interval. */
  seed: number;
  /** How long to run, seconds. */
  durationS: number;
  /** The deployer changes the desired size (a launch with another --workers). */
  scale?: Array<{ atS: number; workers: number }>;
  /** Terminated instances drop out of listings this long after they ended (EC2: about an hour). */
  forgetAfterS?: number;
  /** A broken rule to prove the test can fail: launch on a failed ask alone. */
  breakRule?: "launch-on-unreachable";
}

interface Truth {
  id: string;
  state: Ec2State;
  launchedAt: number;
  tags: Record<string, string>;
  /** When its agent answers asks (running). */
  upAt: number;
  servesAt: number;
  terminateAt?: number;
  endedAt?: number;
}

interface Worker {
  id: string;
  /** The desired.json this worker last read, and the newer one it reads at `desiredNextAt`. */
  desired: Desired;
  desiredNext?: { desired: Desired; at: number };
  listing: Listing;
  nextListAt: number;
  listEveryMs: number;
  checks: InstanceCheck[];
  /** Watched members EC2 called alive since they last answered. */
  aliveChecked: Set<string>;
  lastCheckAt?: number;
  noticed: Record<string, number>;
  wakeAt?: number;
  nextRoundAt: number;
}

export interface Launch {
  id: string;
  at: number;
  slot: number;
  cause: string;
  /** The instance the claim named, and its EC2 state in truth when it was claimed. */
  doomed?: string;
  doomedStateAtClaim?: Ec2State;
  /** Live holders of the slot in EC2's truth when it was claimed (a launch into a held slot is a duplicate). */
  heldAtClaim: number;
}

export interface SimResult {
  /** Live (pending/running, not retiring/failed) instances at each second. */
  liveAt: number[];
  /** The desired size in effect (written) at each second. */
  desiredAt: number[];
  /** The deployer's own launches (slot fills on scaling). */
  fills: number;
  /** Pending/running instances, retiring included (what bills). */
  billingAt: number[];
  launches: Launch[];
  kills: Array<{ at: number; id: string }>;
  /** Claims created whose claimant died before launching (they must go stale). */
  orphanedClaims: number;
  /** DescribeInstances calls the watchers made (one per round with checks due). */
  checkCalls: number;
  partitionsEndS: number;
  lastKillS: number;
}

export function simulate(s: Scenario): SimResult {
  const random = seededRandom(s.seed);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  let desired: Desired = { workers: s.desired, setAt: new Date(SIM_START - 3600_000).toISOString() };
  const truth = new Map<string, Truth>();
  const claims = new Map<string, number>();
  const workers = new Map<string, Worker>();
  const pendingLaunches: Array<{ at: number; claimant: string; slot: number; replaces: string; cause: string; doomed?: string; doomedState?: Ec2State; heldAtClaim: number }> = [];
  const result: SimResult = { desiredAt: [], fills: 0, liveAt: [], billingAt: [], launches: [], kills: [], orphanedClaims: 0, checkCalls: 0, partitionsEndS: 0, lastKillS: 0 };
  let seq = 0;
  let claimantDeaths = s.claimantDeaths;
  const deployerLaunches: Array<{ at: number; slot: number }> = [];
  let now = SIM_START;

  const newId = () => `i-${(seq++).toString(16).padStart(8, "0")}${s.seed.toString(16).slice(-4)}`;
  const isLiveTruth = (t: Truth) => (t.state === "pending" || t.state === "running") && t.tags[TAG_STATE] !== "retiring" && t.tags[TAG_STATE] !== "failed";
  const forgetMs = (s.forgetAfterS ?? 3600) * 1000;
  const snapshot = (): SeenInstance[] =>
    [...truth.values()].filter((t) => t.endedAt === undefined || now - t.endedAt < forgetMs).map((t) => ({ id: t.id, state: t.state, launchedAt: t.launchedAt, tags: { ...t.tags }, instanceType: "g5.xlarge", zone: "us-east-1a" }));
  const join = (id: string) => {
    const listEveryMs = between(30, 300) * 1000;
    // A joining worker lists at once; the first ones start with listings up to one interval old.
    workers.set(id, { id, desired, listing: { at: now, instances: snapshot() }, nextListAt: now + between(1, listEveryMs / 1000) * 1000, listEveryMs, checks: [], aliveChecked: new Set(), noticed: {}, nextRoundAt: now + between(0, 4) * 1000 });
  };
  const launch = (slot: number, replaces: string | undefined, launchedAt: number, age = 0): string => {
    const id = newId();
    const boot = between(20, 90) * 1000;
    truth.set(id, {
      id,
      state: age > 0 ? "running" : "pending",
      launchedAt: second(launchedAt),
      tags: { [TAG_SLOT]: String(slot), [TAG_STATE]: age > 0 ? "serving" : "booting", ...(replaces ? { [TAG_REPLACES]: replaces } : {}), ...(age > 0 ? { [TAG_SERVED_AT]: new Date(launchedAt + 60_000).toISOString() } : {}) },
      upAt: launchedAt + boot,
      servesAt: launchedAt + boot + between(10, 60) * 1000,
    });
    return id;
  };
  const kill = (id: string) => {
    const t = truth.get(id);
    if (!t || t.state === "terminated" || t.state === "shutting-down") return;
    // Repair needs a survivor: a kill that would leave no running worker is skipped (a total loss
    // is the deployer's to fix, `synkti --workers N`).
    if (![...workers.keys()].some((w) => w !== id && isLiveTruth(truth.get(w)!))) return;
    t.state = "terminated";
    t.endedAt = now;
    workers.delete(id);
    result.kills.push({ at: now, id });
  };
  const slotHolders = (slot: number) => [...truth.values()].filter((t) => isLiveTruth(t) && t.tags[TAG_SLOT] === String(slot));
  const partitioned = (a: string, b: string): boolean =>
    s.partitions.some((p) => {
      if (now < SIM_START + p.fromS * 1000 || now >= SIM_START + p.toS * 1000) return false;
      const pa = new Set(slotHolders(p.a % desired.workers).map((t) => t.id));
      const pb = new Set(slotHolders(p.b % desired.workers).map((t) => t.id));
      return (pa.has(a) && pb.has(b)) || (pa.has(b) && pb.has(a));
    });
  const answers = (from: string, to: string) => {
    const t = truth.get(to);
    return !!t && t.state === "running" && now >= t.upAt && !partitioned(from, to);
  };
  const listClaims = (): ClaimSeen[] => [...claims].flatMap(([name, at]) => parseClaimKey(names, `${names.claimsPrefix}${name}`, at) ?? []);

  // The cluster as the deployer left it an hour ago: one holder per slot, each slot's fill claimed.
  for (let slot = 0; slot < s.desired; slot++) {
    claims.set(`${slot}-d${Date.parse(desired.setAt)}`, second(SIM_START - 3600_000));
    launch(slot, undefined, SIM_START - 3600_000 + 2000, 1);
  }
  for (const t of truth.values()) t.upAt = t.servesAt = SIM_START - 3000_000;
  for (const id of truth.keys()) join(id);
  // Views of differing ages: each first listing is up to its interval old (nothing changed then).
  for (const w of workers.values()) w.listing = { at: now - between(0, w.listEveryMs / 1000) * 1000, instances: snapshot() };

  const killsByTime = new Map<number, Scenario["kills"]>();
  for (const k of s.kills) killsByTime.set(k.atS, [...(killsByTime.get(k.atS) ?? []), k]);
  result.lastKillS = Math.max(0, ...s.kills.map((k) => k.atS));
  result.partitionsEndS = Math.max(0, ...s.partitions.map((p) => p.toS));

  for (let tick = 0; tick <= s.durationS; tick++) {
    now = SIM_START + tick * 1000;

    // EC2's own progress: boots, first serving, drains ending.
    for (const t of truth.values()) {
      if (t.state === "pending" && now >= t.upAt) {
        t.state = "running";
        join(t.id);
      }
      if (t.state === "running" && t.tags[TAG_STATE] === "booting" && now >= t.servesAt) {
        t.tags[TAG_STATE] = "serving";
        t.tags[TAG_SERVED_AT] = new Date(now).toISOString();
      }
      if (t.terminateAt !== undefined && now >= t.terminateAt && t.state !== "terminated") {
        t.state = "terminated";
        t.endedAt = now;
        workers.delete(t.id);
      }
    }

    for (const k of killsByTime.get(tick) ?? []) {
      for (const slot of k.slots) {
        const victim = slotHolders(slot % Math.max(1, desired.workers)).sort((a, b) => a.launchedAt - b.launchedAt)[0];
        if (!victim) continue;
        const live = [...truth.values()].filter(isLiveTruth).map((t) => t.id);
        const watchers = watcherRing(live).watchersOf(victim.id).slice(0, k.withWatchers ?? 0);
        for (const id of [victim.id, ...watchers]) kill(id);
      }
    }

    for (const extra of s.extras ?? []) if (extra.atS === tick) launch(extra.slot % Math.max(1, desired.workers), undefined, now);

    // The deployer: claims each empty slot's fill, launches it, then writes desired.json.
    for (const change of s.scale ?? []) {
      if (change.atS !== tick) continue;
      const next: Desired = { workers: change.workers, setAt: new Date(now).toISOString() };
      // Like the deployer's own: a slot held, or claimed by a launch it cannot see yet, is not its to fill.
      const view = { at: now, instances: snapshot() };
      for (let slot = 0; slot < next.workers; slot++) {
        const name = `${slot}-d${Date.parse(next.setAt)}`;
        if (slotHolders(slot).length > 0 || claims.has(name)) continue;
        if (nextAttempt(listClaims(), slot, `d${Date.parse(next.setAt)}`, view, slotOf).kind === "held") continue;
        claims.set(name, second(now));
        deployerLaunches.push({ at: now + 2000, slot });
      }
      desired = next;
      for (const w of workers.values()) w.desiredNext = { desired: next, at: now + between(0, 15) * 1000 };
    }
    for (const fill of deployerLaunches.splice(0).filter((f) => (now >= f.at ? true : (deployerLaunches.push(f), false)))) {
      launch(fill.slot, undefined, now);
      result.fills++;
    }

    // Launches that were claimed: RunInstances after its latency, unless the claimant died first.
    for (const p of pendingLaunches.splice(0).filter((p) => (now >= p.at ? true : (pendingLaunches.push(p), false)))) {
      if (!workers.has(p.claimant)) {
        result.orphanedClaims++;
        continue;
      }
      const id = launch(p.slot, p.replaces, now);
      result.launches.push({ id, at: now, slot: p.slot, cause: p.cause, heldAtClaim: p.heldAtClaim, ...(p.doomed ? { doomed: p.doomed, doomedStateAtClaim: p.doomedState! } : {}) });
    }

    for (const w of [...workers.values()]) {
      if (!workers.has(w.id)) continue;
      if (w.desiredNext && now >= w.desiredNext.at) {
        w.desired = w.desiredNext.desired;
        delete w.desiredNext;
      }
      if (now >= w.nextListAt) {
        w.listing = { at: now, instances: snapshot() };
        w.checks = w.checks.filter((c) => c.at > now);
        w.nextListAt = now + w.listEveryMs;
      }
      const round = now >= w.nextRoundAt;
      if (round) {
        w.nextRoundAt = now + ASK_ROUND_MS;
        const members = w.listing.instances.filter((i) => i.state === "pending" || i.state === "running").map((i) => i.id);
        const known = new Set(w.checks.filter((c) => c.state !== "pending" && c.state !== "running").map((c) => c.id));
        const failed: string[] = [];
        for (const target of watcherRing([...members, w.id]).watchedBy(w.id)) {
          if (known.has(target)) continue;
          if (answers(w.id, target)) {
            w.aliveChecked.delete(target);
            continue;
          }
          if (s.breakRule === "launch-on-unreachable") w.checks.push({ id: target, state: "terminated", at: now });
          else failed.push(target);
        }
        const due = watchChecksDue({ failed, aliveChecked: w.aliveChecked, lastCheckAt: w.lastCheckAt, now, clusterSize: members.length });
        if (due.length > 0) w.lastCheckAt = now;
        const answeredAt = now + between(0, 2) * 1000;
        for (const id of due) {
          const t = truth.get(id);
          const state = t ? t.state : "unknown";
          w.checks.push({ id, state, at: answeredAt });
          if (state === "pending" || state === "running") w.aliveChecked.add(id);
        }
        result.checkCalls += due.length > 0 ? 1 : 0;

      }
      if (!round && (w.wakeAt === undefined || now < w.wakeAt)) continue;
      const visibleChecks = w.checks.filter((c) => c.at <= now);
      const decision = decideRepair({
        self: w.id,
        now,
        desired: w.desired,
        listing: w.listing,
        checks: visibleChecks,
        claims: { at: now, seen: listClaims() },
        outcomes: [],
        noticed: w.noticed,
      });
      w.noticed = decision.noticed;
      // The worker decides again when a check answers, not a round later.
      const answersDue = w.checks.filter((c) => c.at > now).map((c) => c.at);
      const wake = Math.min(decision.wakeAt ?? Infinity, ...answersDue);
      w.wakeAt = Number.isFinite(wake) ? wake : undefined;
      for (const action of decision.actions) {
        if (action.kind === "retire-self") {
          // The worker re-reads the one it leaves the slot to, and retires only if it is alive.
          const keep = action.keep ? truth.get(action.keep) : undefined;
          if (action.keep && !(keep && isLiveTruth(keep))) continue;
          const me = truth.get(w.id)!;
          me.tags[TAG_STATE] = "retiring";
          me.terminateAt = now + 10_000;
        } else if (action.kind === "retire-other") {
          kill(action.instanceId);
        } else {
          if (claims.has(action.name)) continue; // 412
          claims.set(action.name, second(now));
          const view = { at: w.listing.at, instances: w.listing.instances };
          if (confirmClaim(action.name, listClaims(), view, slotOf) === "back-off") continue;
          const doomed = action.doomed.instanceId;
          pendingLaunches.push({
            at: now + between(0, 5) * 1000,
            claimant: w.id,
            slot: action.slot,
            replaces: doomed ?? action.doomed.launchId,
            cause: action.cause,
            heldAtClaim: slotHolders(action.slot).length,
            ...(doomed ? { doomed, doomedState: truth.get(doomed)?.state ?? "unknown" } : {}),
          });
          // A kill that takes the claimant between its claim and its launch (the orphaned claim).
          if (claimantDeaths-- > 0) kill(w.id);
        }
      }
    }

    const all = [...truth.values()];
    result.liveAt.push(all.filter(isLiveTruth).length);
    result.desiredAt.push(desired.workers);
    result.billingAt.push(all.filter((t) => t.state === "pending" || t.state === "running").length);
  }
  return result;
}
