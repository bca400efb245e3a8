import { describeScaleDown, type LaunchPlan, type ScaleDown } from "./plan.js";

/**
 * What the operator is asked to approve before any GPU is acquired (and the `plan` of the JSON
 * result): how many, what, where, and what it costs now. Pure; the spot prices are read by the
 * caller, and a price that could not be read is `null`, never a guess.
 */
export interface LaunchProposal {
  project: string;
  model: string;
  instanceType: string;
  market: "spot";
  desired: number;
  /** Pending or running workers before this launch. */
  active: number;
  toLaunch: number;
  /** New workers per zone. */
  zones: Record<string, number>;
  /** The slot (SynktiSlot) each new worker fills: the lowest empty ones. */
  slots: number[];
  /** A lower desired size: how many workers retire and which (they drain, then terminate themselves). */
  scaleDown: ScaleDown | null;
  /** Current spot price (USD per instance-hour) of each zone of `zones`; absent: AWS gave none. */
  spotPrice: Record<string, number>;
  /** Sum of the new workers' current prices; null when a zone's price is unknown. */
  hourlyEstimate: number | null;
  currency: "USD";
}

export function buildProposal(plan: LaunchPlan, target: { project: string; model: string; instanceType: string }, prices: Record<string, number> | undefined): LaunchProposal {
  const zones: Record<string, number> = {};
  for (const z of plan.placements) zones[z] = (zones[z] ?? 0) + 1;
  const spotPrice = Object.fromEntries(Object.keys(zones).filter((z) => prices?.[z] !== undefined).map((z) => [z, prices![z]!]));
  const known = plan.placements.every((z) => spotPrice[z] !== undefined);
  const hourlyEstimate = known && plan.placements.length > 0 ? round(plan.placements.reduce((sum, z) => sum + spotPrice[z]!, 0)) : null;
  return { project: target.project, model: target.model, instanceType: target.instanceType, market: "spot", desired: plan.desired, active: plan.active, toLaunch: plan.toLaunch, zones, slots: plan.slots, scaleDown: plan.scaleDown, spotPrice, hourlyEstimate, currency: "USD" };
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
export const dollars = (n: number) => `$${Number(n.toPrecision(4))}`;

/** The plan in a few lines, as shown before the question. */
export function renderProposal(p: LaunchProposal): string {
  const down = p.scaleDown ? [`Plan for ${p.project}: ${describeScaleDown(p.scaleDown)}`] : [];
  if (p.toLaunch === 0) return down.join("\n");
  return [...down, ...renderLaunchLines(p)].join("\n");
}

function renderLaunchLines(p: LaunchProposal): string[] {
  const where = Object.entries(p.zones).map(([z, n]) => `${n} in ${z}`).join(", ");
  const prices = Object.entries(p.zones).map(([z]) => (p.spotPrice[z] !== undefined ? `${dollars(p.spotPrice[z]!)}/h in ${z}` : `unknown in ${z}`)).join(", ");
  const estimate = p.hourlyEstimate === null ? "hourly estimate unknown (no spot price for every zone)" : `about ${dollars(p.hourlyEstimate)}/h for the ${p.toLaunch} new worker${p.toLaunch === 1 ? "" : "s"}`;
  const slots = p.slots.length > 0 ? ` (slot${p.slots.length === 1 ? "" : "s"} ${p.slots.join(", ")})` : "";
  return [
    `Plan for ${p.project}: launch ${p.toLaunch} x ${p.instanceType} (spot, one-time) serving ${p.model}: ${where}${slots}`,
    `  ${p.active} of ${p.desired} workers already pending or running`,
    `  current spot price: ${prices}; ${estimate} (spot prices move; AWS bills the price of each hour)`,
  ];
}

/** The question asked on a terminal: the launch, the scale down, or both. */
export function proposalQuestion(p: LaunchProposal): string {
  const cost = p.hourlyEstimate === null ? "" : ` (about ${dollars(p.hourlyEstimate)}/h)`;
  const launch = p.toLaunch > 0 ? `launch ${p.toLaunch} x ${p.instanceType}${cost}` : "";
  const n = p.scaleDown?.retiring.length ?? 0;
  const down = !p.scaleDown ? "" : n === 0 ? `lower the desired workers from ${p.scaleDown.from} to ${p.scaleDown.to}` : `retire ${n} worker${n === 1 ? "" : "s"} (desired ${p.scaleDown.from} -> ${p.scaleDown.to})`;
  const what = [down, launch].filter(Boolean).join(" and ");
  return `${what.charAt(0).toUpperCase()}${what.slice(1)}? [y/N] `;
}
