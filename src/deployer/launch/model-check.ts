import type { Ec2Instances, InstanceSummary } from "../../aws/ec2-instances.js";
import { SynktiError } from "../../core/errors.js";
import { TAG_MODEL, workerSelector } from "../../infra/names.js";
import { ACTIVE_STATES, isStopping } from "../fleet/tags.js";
import { oneLine } from "../logs/printable.js";

/**
 * The workers a launch counts (pending or running, not being stopped by `down`): the listing the
 * plan is made from, and the one preflight's "workers-model" requirement judges and hands over.
 */
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

export function otherModelError(check: ModelCheck, target: { project: string; region: string; model: string }): SynktiError | undefined {
  if (check.others.length === 0) return undefined;
  const models = [...new Set(check.others.map((o) => o.model))].join(", ");
  const ids = check.others.map((o) => o.instanceId).join(", ");
  return new SynktiError(
    `Project ${target.project} serves ${models} (${ids}); this launch is for ${target.model}. One project serves one model: stop its workers first, then launch again. Nothing was launched.`,
    { code: "other-model", kind: "unsafe", remedy: `synkti down --project-name ${target.project} --region ${target.region}` },
  );
}
