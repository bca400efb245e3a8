import { doing } from "../../aws/errors.js";
import { isSynktiError, messageOf } from "../../core/errors.js";
import type { ProjectNames } from "../../infra/names.js";
import { describeEndpoint, type EndpointDeps, type EndpointOptions, type EndpointResult } from "./endpoint.js";

/**
 * What a launch prints at its end: the endpoint (never the key), or why it cannot be shown. It
 * never throws for AWS trouble or a missing load balancer: the workers are launched either way, and
 * a launch must not fail for its epilogue. Only an abort propagates.
 */
export interface EndpointSummary {
  endpoint: EndpointResult | null;
  /** Why `endpoint` is null, with the command to run; null when it is there. */
  unavailable: string | null;
}

export async function endpointSummary(
  deps: EndpointDeps,
  names: ProjectNames,
  options: Omit<EndpointOptions, "showKey"> = {},
  signal?: AbortSignal,
): Promise<EndpointSummary> {
  try {
    const endpoint = await doing("reading the project's endpoint", () => describeEndpoint(deps, names, { ...options, showKey: false }, signal));
    return { endpoint, unavailable: null };
  } catch (error) {
    if (signal?.aborted) throw error;
    const message = messageOf(error);
    const remedy = isSynktiError(error) && error.remedy ? error.remedy : `synkti endpoint --project-name ${names.project}${options.region ? ` --region ${options.region}` : ""}`;
    return { endpoint: null, unavailable: `${message} Run: ${remedy}` };
  }
}
