/**
 * EC2 calls per minute of a whole cluster of 10, 100 and 1000 simulated members, repair included
 * (issue 12 item 8). A discrete-event simulation on a virtual clock (1 s ticks, seeded): no AWS, no
 * moto; what it counts are the calls each part of the worker makes by its own rules, read from the
 * code that sets them:
 * - listings: src/worker/discovery/budget.ts (listingIntervalMs, jittered, a random first phase);
 * - standing-plan refreshes: src/worker/failover/standing-plan.ts (planIntervalMs), each
 *   PLAN_CALLS calls (worker-plan.ts: DescribeInstances, DescribeSecurityGroups,
 *   DescribeInstanceTypeOfferings, DescribeSubnets, DescribeImages, and the RunInstances DryRun;
 *   one more DescribeInstanceTypeOfferings per extra instance type);
 * - watcher checks: src/repair/watch.ts (watchChecksDue) on the real ring (watcherRing), against
 *   REPAIR.md's first rule (every 30 s per unreachable target) to show why it changed;
 * - repairs: silent deaths at DEATHS_PER_MEMBER_HOUR; each costs its 3 watchers' first checks and
 *   the failover's spawn path (REPAIR_SPAWN_CALLS) and HEALTH polls (every 5 s until the
 *   replacement serves, BOOT_S), then the replacement's join listing and first plan refresh.
 * The discovery bench (worker.ts) measures the listings against moto; this one adds the rest.
 */
import { DEFAULT_DISCOVERY_BUDGET, firstPhaseMs, jittered, listingIntervalMs } from "../../src/worker/discovery/budget.js";
import { planIntervalMs } from "../../src/worker/failover/standing-plan.js";
import { ASK_ROUND_MS, WATCH_RECHECK_MS, watchChecksDue, watcherRing, watchRecheckMs } from "../../src/repair/index.js";
import { seededRandom } from "../../test/support/seeded-random.js";

/** worker-plan.ts's refresh with one instance type: 5 reads and the DryRun. */
const PLAN_CALLS = 6;
/** The spawn path before RunInstances: findReplacement, observePools' listing, the template's 4 reads. */
const REPAIR_SPAWN_CALLS = 6;
/** From RunInstances to serving (the HEALTH polls run every 5 s until then). */
const BOOT_S = 240;
const HEALTH_POLL_S = 5;
/** Silent deaths (no spot notice) per member and hour: pessimistic on purpose. */
const DEATHS_PER_MEMBER_HOUR = 0.01;
/** Hung agents (alive to EC2, not answering asks) at any time: 1 % of the members, at least 1. */
const HUNG_FRACTION = 0.01;

type Scenario = "quiet" | "deaths" | "hung" | "zone-cut";
type Rule = "watch.ts" | "per-target-30s";

interface Counts {
  listings: number;
  plans: number;
  checks: number;
  repairs: number;
}

const ids = (n: number) => Array.from({ length: n }, (_, k) => `i-${k.toString(16).padStart(17, "0")}`);

/**
 * One silent death's calls: its 3 watchers' first checks (it answered until it died); the spawn
 * path, RunInstances and HEALTH's polls until the replacement serves; the replacement's join
 * listing and its first plan refresh.
 */
export function deathCost(pages: number): Counts {
  return { checks: 3, repairs: REPAIR_SPAWN_CALLS + 1 + BOOT_S / HEALTH_POLL_S, listings: pages, plans: PLAN_CALLS };
}

/** Calls per minute, averaged over `minutes` simulated minutes, for one size, scenario and rule. */
export function simulateBudget(n: number, scenario: Scenario, rule: Rule, minutes = 60, seed = 12): Counts & { total: number; peak: number } {
  const random = seededRandom(seed + n);
  const members = ids(n);
  const ring = watcherRing(members);
  const pages = Math.max(1, Math.ceil(n / 1000));
  const listEvery = listingIntervalMs(n, pages);
  const counts: Counts = { listings: 0, plans: 0, checks: 0, repairs: 0 };
  const nextList = members.map(() => firstPhaseMs(listEvery, random));
  const nextPlan = members.map(() => firstPhaseMs(planIntervalMs(n, random), random));

  // Who cannot be reached, from whom (hung agents: by nobody; a zone cut: across the cut).
  const hung = new Set(scenario === "hung" ? members.filter(() => random() < HUNG_FRACTION) : []);
  if (scenario === "hung" && hung.size === 0) hung.add(members[0]!);
  const zone = members.map(() => Math.floor(random() * 3));
  const index = new Map(members.map((m, k) => [m, k]));
  const cutFrom = (minutes * 60_000) / 3;
  const cutTo = cutFrom + 10 * 60_000;
  const unreachable = (watcher: string, target: string, now: number) =>
    hung.has(target) || (scenario === "zone-cut" && now >= cutFrom && now < cutTo && (zone[index.get(watcher)!] === 0) !== (zone[index.get(target)!] === 0));

  // Only watchers with something unreachable need state; the rest make no calls.
  const aliveChecked = new Map<string, Set<string>>();
  const lastCheck = new Map<string, number>();
  const lastTargetCheck = new Map<string, number>();
  const watchers = scenario === "hung" ? [...new Set([...hung].flatMap((t) => ring.watchersOf(t)))] : scenario === "zone-cut" ? members : [];
  const roundPhase = new Map(members.map((m) => [m, Math.floor(random() * (ASK_ROUND_MS / 1000)) * 1000]));

  const endMs = minutes * 60_000;
  /** Calls in each simulated minute (listings, plans and checks), for the peak. */
  const minuteTotals = Array.from({ length: minutes }, () => 0);
  const before = () => counts.listings + counts.plans + counts.checks;
  for (let now = 0; now < endMs; now += 1000) {
    const start = before();
    for (let k = 0; k < n; k++) {
      if (now >= nextList[k]!) {
        counts.listings += pages;
        nextList[k] = now + jittered(listEvery, random);
      }
      if (now >= nextPlan[k]!) {
        counts.plans += PLAN_CALLS;
        nextPlan[k] = now + planIntervalMs(n, random);
      }
    }
    for (const w of watchers) {
      if ((now - roundPhase.get(w)!) % ASK_ROUND_MS !== 0) continue;
      const failed = ring.watchedBy(w).filter((t) => unreachable(w, t, now));
      const checked = aliveChecked.get(w) ?? new Set<string>();
      for (const t of ring.watchedBy(w)) if (!failed.includes(t)) checked.delete(t);
      if (failed.length === 0) {
        aliveChecked.set(w, checked);
        continue;
      }
      if (rule === "per-target-30s") {
        for (const t of failed) {
          const key = `${w}>${t}`;
          const last = lastTargetCheck.get(key);
          if (checked.has(t) && last !== undefined && now - last < WATCH_RECHECK_MS) continue;
          counts.checks++;
          lastTargetCheck.set(key, now);
          checked.add(t);
        }
      } else {
        const due = watchChecksDue({ failed, aliveChecked: checked, lastCheckAt: lastCheck.get(w), now, clusterSize: n });
        if (due.length > 0) {
          counts.checks++;
          lastCheck.set(w, now);
        }
        for (const t of due) checked.add(t);
      }
      aliveChecked.set(w, checked);
    }
    minuteTotals[Math.floor(now / 60_000)]! += before() - start;
  }
  // Deaths are rare (0.1 an hour at 10 members): their calls are added at their expected rate
  // rather than drawn, so every size shows them.
  const deaths = scenario === "deaths" ? (DEATHS_PER_MEMBER_HOUR * n * minutes) / 60 : 0;
  const cost = deathCost(pages);
  const perMinute = (x: number, k: keyof Counts) => (x + deaths * cost[k]) / minutes;
  const result = { listings: perMinute(counts.listings, "listings"), plans: perMinute(counts.plans, "plans"), checks: perMinute(counts.checks, "checks"), repairs: perMinute(counts.repairs, "repairs") };
  return { ...result, total: result.listings + result.plans + result.checks + result.repairs, peak: Math.max(...minuteTotals) };
}

export async function benchRepairBudget(sizes = [10, 100, 1000]): Promise<string[]> {
  const f = (x: number) => x.toFixed(1).padStart(7);
  const lines = [
    `simulated 60 min per row (1 s ticks, seeded); deaths ${DEATHS_PER_MEMBER_HOUR * 100}% of members/h; hung agents ${HUNG_FRACTION * 100}% (>= 1); zone cut: a third of the members unreachable from the rest for 10 of the 60 min`,
    `${"members".padStart(7)} ${"scenario".padEnd(26)} ${"listings".padStart(8)} ${"plans".padStart(7)} ${"checks".padStart(7)} ${"repairs".padStart(7)} ${"total/min".padStart(9)} ${"peak min".padStart(8)}`,
  ];
  const rows: Array<[Scenario, Rule, string]> = [
    ["quiet", "watch.ts", "quiet"],
    ["deaths", "watch.ts", "silent deaths (expected)"],
    ["hung", "watch.ts", "hung agents"],
    ["hung", "per-target-30s", "hung agents, 30 s/target"],
    ["zone-cut", "watch.ts", "zone cut"],
    ["zone-cut", "per-target-30s", "zone cut, 30 s/target"],
  ];
  for (const n of sizes) {
    for (const [scenario, rule, label] of rows) {
      const c = simulateBudget(n, scenario, rule);
      lines.push(`${String(n).padStart(7)} ${label.padEnd(26)} ${f(c.listings).padStart(8)} ${f(c.plans)} ${f(c.checks)} ${f(c.repairs)} ${f(c.total).padStart(9)} ${String(c.peak).padStart(8)}`);
    }
  }
  lines.push(
    `listings' bound: ${DEFAULT_DISCOVERY_BUDGET.clusterCallsPerSecond * 60}/min; watcher re-checks (watch.ts): every max(${WATCH_RECHECK_MS / 1000} s, N x 2 s) per watcher, one call per round: 10 -> ${watchRecheckMs(10) / 1000} s, 100 -> ${watchRecheckMs(100) / 1000} s, 1000 -> ${watchRecheckMs(1000) / 1000} s`,
    `one silent death: ${Object.values(deathCost(1)).reduce((a, b) => a + b, 0)} calls (3 checks, ${REPAIR_SPAWN_CALLS} reads + RunInstances, ${BOOT_S / HEALTH_POLL_S} HEALTH polls over a ${BOOT_S} s boot, the replacement's join listing and first plan refresh)`,
    "peak min: the most calls in one simulated minute, repairs left out (a zone cut's first checks come at once: one call per watcher with a target across the cut)",
    "30 s/target: REPAIR.md's first rule (one call per unreachable target every 30 s), shown for comparison; plans include the RunInstances DryRun (RunInstances' own throttle bucket)",
  );
  return lines;
}
