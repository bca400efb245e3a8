import type { Ec2Instances, InstanceState, InstanceSummary } from "../aws/ec2-instances.js";
import { oneLine } from "../core/printable.js";
import { TAG_MODEL, TAG_STOPPING, workerSelector } from "../infra/names.js";

/**
 * Who is in the project's fleet, read from tags (DESIGN: membership is the set of tagged
 * instances, no control plane). Shared by the launch (what it plans with), preflight's
 * "workers-model" requirement (what it judges and hands over), the endpoint and `--wait`.
 */

/** What counts as a serving (or about to serve) worker when planning a launch. */
export const ACTIVE_STATES: readonly InstanceState[] = ["pending", "running"];

/** `SynktiStopping=true`: `synkti down` has begun on this instance (src/deployer/fleet/tags.ts). */
export const isStopping = (tags: Record<string, string>) => tags[TAG_STOPPING] === "true";

/** The workers a launch counts: pending or running, not being stopped by `down`. */
export async function activeWorkers(ec2: Pick<Ec2Instances, "describe">, project: string, signal?: AbortSignal): Promise<InstanceSummary[]> {
  return (await ec2.describe({ tags: workerSelector(project), states: ACTIVE_STATES }, signal)).filter((i) => !isStopping(i.tags));
}

/**
 * One project serves one model: a launch for another model would mix two models behind one
 * endpoint, and a re-run would count the other model's workers as its own. Pure: judged on the
 * listing the launch plans with.
 *
 * Workers without a SynktiModel tag were launched by a synkti before the tag existed: their model
 * cannot be known from outside, so they do not block the launch (that would force a `down` of a
 * healthy fleet on upgrade); they are named in a warning instead.
 */
export interface ModelCheck {
  /** Workers tagged with another model. */
  others: Array<{ instanceId: string; model: string }>;
  /** Workers with no SynktiModel tag (older synkti). */
  untagged: string[];
}

export function checkModel(workers: InstanceSummary[], model: string): ModelCheck {
  const others: ModelCheck["others"] = [];
  const untagged: string[] = [];
  for (const w of workers) {
    const tagged = w.tags[TAG_MODEL];
    if (tagged === undefined) untagged.push(w.instanceId);
    // Any worker of the project may tag its peers: the value is shown cleaned, as status shows it.
    else if (tagged !== model) others.push({ instanceId: w.instanceId, model: oneLine(tagged, 128) });
  }
  return { others, untagged };
}
