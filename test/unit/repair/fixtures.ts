/** Instances and views for the repair's table tests: minutes from T0, tags by name. */
import type { Desired } from "../../../src/cluster/desired.js";
import { TAG_REPLACES, TAG_SERVED_AT, TAG_SLOT, TAG_STATE } from "../../../src/infra/names.js";
import type { Ec2State, RepairView, SeenInstance } from "../../../src/repair/index.js";

export const T0 = Date.parse("2026-11-29T08:00:00Z");
export const MIN = 60_000;
export const at = (minutes: number) => T0 + minutes * MIN;

export interface Spec {
  slot?: number | string;
  state?: Ec2State;
  synkti?: string;
  replaces?: string;
  served?: boolean;
  launched?: number;
}

/** `i(id, { slot: 0 })`: running, serving, served, launched at minute 0 unless told. */
export function i(id: string, spec: Spec = {}): SeenInstance {
  const tags: Record<string, string> = {};
  if (spec.slot !== undefined) tags[TAG_SLOT] = String(spec.slot);
  tags[TAG_STATE] = spec.synkti ?? "serving";
  if (spec.replaces) tags[TAG_REPLACES] = spec.replaces;
  if (spec.served ?? true) tags[TAG_SERVED_AT] = new Date(at(spec.launched ?? 0) + 3 * MIN).toISOString();
  return { id, state: spec.state ?? "running", launchedAt: at(spec.launched ?? 0), tags, instanceType: "g5.xlarge", zone: "us-east-1a" };
}

export const desired = (workers: number, setAtMinute = -60): Desired => ({ workers, setAt: new Date(at(setAtMinute)).toISOString() });

export function view(over: Partial<RepairView> & Pick<RepairView, "self">): RepairView {
  return {
    now: at(60),
    desired: desired(3),
    listing: { at: at(60), instances: [] },
    claims: { at: at(60), seen: [] },
    outcomes: [],
    noticed: {},
    ...over,
  };
}
