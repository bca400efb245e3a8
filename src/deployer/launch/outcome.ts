import { endpointSummary } from "../endpoint/summary.js";
import type { EndpointDeps, EndpointResult } from "../endpoint/endpoint.js";
import { projectNames } from "../../infra/names.js";
import type { LaunchResult } from "./types.js";
import type { WaitResult } from "./wait-serving.js";

/**
 * What a launch reports once it is complete: the launch, the wait (with --wait), and the project's
 * endpoint, so the operator leaves with the URL and a request to copy. The endpoint is read after
 * the commit and never fails the launch: without a load balancer, or when AWS refuses the read,
 * `endpoint` is null and `endpointUnavailable` says why with the command to run. The key is never
 * read here (no `--show-key`): the text shows the command that loads it.
 */
export interface LaunchOutcome extends LaunchResult {
  wait?: { serving: string[]; waitedSeconds: number };
  endpoint: EndpointResult | null;
  endpointUnavailable: string | null;
}

export async function launchOutcome(
  deps: EndpointDeps,
  result: LaunchResult,
  options: { region?: string; /** A valid SYNKTI_ENDPOINT_URL, checked before the launch. */ urlOverride?: string; waited?: WaitResult },
): Promise<LaunchOutcome> {
  // No abort signal: Ctrl-C after the commit has nothing to undo, and the read is bounded by the AWS deadlines.
  const summary = await endpointSummary(deps, projectNames(result.project), {
    ...(options.region ? { region: options.region } : {}),
    ...(options.urlOverride ? { urlOverride: options.urlOverride } : {}),
  });
  return {
    ...result,
    ...(options.waited ? { wait: { serving: options.waited.serving, waitedSeconds: Math.round(options.waited.waitedMs / 1000) } } : {}),
    endpoint: summary.endpoint,
    endpointUnavailable: summary.unavailable,
  };
}
