import { SynktiError } from "../../core/errors.js";
import type { ModelCheck } from "../../cluster/membership.js";

export function otherModelError(check: ModelCheck, target: { project: string; region: string; model: string }): SynktiError | undefined {
  if (check.others.length === 0) return undefined;
  const models = [...new Set(check.others.map((o) => o.model))].join(", ");
  const ids = check.others.map((o) => o.instanceId).join(", ");
  return new SynktiError(
    `Project ${target.project} serves ${models} (${ids}); this launch is for ${target.model}. One project serves one model: stop its workers first, then launch again. Nothing was launched.`,
    { code: "other-model", kind: "unsafe", remedy: `synkti down --project-name ${target.project} --region ${target.region}` },
  );
}
