import type { Ec2Instances } from "../../aws/ec2-instances.js";
import { SynktiError } from "../../core/errors.js";
import type { ProjectNames } from "../../infra/names.js";
import { readWorkerTags } from "../fleet/worker-tags.js";
import { ACTIVE_STATES, isStopping } from "../../cluster/membership.js";
import { workerSelector } from "../fleet/tags.js";
import { modelNameProblem } from "../../artifacts/model-name.js";
import type { ProjectLoadBalancer, SecretReader } from "./load-balancer.js";
import { ENDPOINT_URL_VARIABLE, loadBalancerUrl } from "./url.js";

/**
 * `synkti endpoint`: where to send completions, for which model, and where the key is. The key's
 * value is read (SSM, decrypted) only with `showKey`; otherwise nothing here ever holds it, so no
 * rendering can leak it.
 */
export interface EndpointDeps {
  ec2: Ec2Instances;
  lb: ProjectLoadBalancer;
  secrets: SecretReader;
}

export interface EndpointOptions {
  /** Read and return the key itself. */
  showKey?: boolean;
  /** A valid SYNKTI_ENDPOINT_URL (see url.ts), shown instead of the load balancer's URL. */
  urlOverride?: string;
  /** For the printed commands. */
  region?: string;
}

export interface EndpointResult {
  project: string;
  url: string;
  /** Where `url` comes from. */
  urlSource: "load-balancer" | typeof ENDPOINT_URL_VARIABLE;
  /** The load balancer's own URL (the same as `url` unless overridden). */
  loadBalancerUrl: string;
  /** The model the running workers serve; null when none runs, or when they disagree (see `models`). */
  model: string | null;
  /** Every model the running workers serve (more than one: requests for one fail on the others). */
  models: string[];
  apiKeyParameter: string;
  /** Only with showKey. */
  apiKey?: string;
  /** A ready request, the key taken from $SYNKTI_API_KEY (never the key itself). */
  curl: string;
  warnings: string[];
}

export const API_KEY_VARIABLE = "SYNKTI_API_KEY";

export async function describeEndpoint(deps: EndpointDeps, names: ProjectNames, options: EndpointOptions = {}, signal?: AbortSignal): Promise<EndpointResult> {
  const [lb, instances, apiKey] = await Promise.all([
    deps.lb.loadBalancer(names, signal),
    deps.ec2.describe({ tags: workerSelector(names.project), states: ACTIVE_STATES }, signal),
    options.showKey ? deps.secrets(names.apiKeyParameter, signal) : Promise.resolve(undefined),
  ]);
  const fix = `synkti infra up --project-name ${names.project}${regionFlag(options)}`;
  if (!lb) {
    throw new SynktiError(`Project ${names.project} has no load balancer (${names.loadBalancer}): there is no endpoint yet.`, { code: "no-load-balancer", kind: "unsafe", remedy: fix });
  }
  if (options.showKey && apiKey === undefined) {
    throw new SynktiError(`The API key parameter ${names.apiKeyParameter} does not exist.`, { code: "no-api-key", kind: "unsafe", remedy: fix });
  }
  const serving = instances.filter((i) => !isStopping(i.tags));
  const models = [...new Set(serving.map((i) => readWorkerTags(i.tags).model).filter((m): m is string => m !== null))].sort();
  const model = models.length === 1 ? models[0]! : null;
  const ownUrl = loadBalancerUrl(lb);
  const url = options.urlOverride ?? ownUrl;
  const warnings = [
    ...(lb.listeners.length === 0 ? [`the load balancer has no listener: nothing answers at ${ownUrl}. Run: ${fix}`] : []),
    ...(lb.state !== "" && lb.state !== "active" ? [`the load balancer is ${lb.state}: its name may not resolve yet`] : []),
    ...(lb.scheme === "internal" && !options.urlOverride
      ? [`the load balancer is internal: ${ownUrl} answers only inside the VPC (from outside, through a tunnel: set ${ENDPOINT_URL_VARIABLE} to its local URL)`]
      : []),
    ...(serving.length === 0 ? [`no worker is running: the endpoint answers 503 until one serves. Run: synkti --project-name ${names.project}${regionFlag(options)} --model <model> --workers <n>`] : []),
    ...(models.length > 1
      ? [`the workers serve ${models.length} models (${models.join(", ")}): the load balancer sends a request to any worker, so a request for one model fails on workers serving another. Run: synkti down --project-name ${names.project}${regionFlag(options)}, then launch one model`]
      : []),
  ];
  return {
    project: names.project,
    url,
    urlSource: options.urlOverride ? ENDPOINT_URL_VARIABLE : "load-balancer",
    loadBalancerUrl: ownUrl,
    model,
    models,
    apiKeyParameter: names.apiKeyParameter,
    ...(options.showKey && apiKey !== undefined ? { apiKey } : {}),
    curl: curlLine(url, model),
    warnings,
  };
}

/** Short `max_tokens`, as a client that never fails a request sends (README: "no failed request"). */
export function curlLine(url: string, model: string | null): string {
  // A tag is written by a worker: only a well-formed model name goes inside the shell quotes.
  const name = model !== null && modelNameProblem(model) === undefined ? model : "<model>";
  const body = JSON.stringify({ model: name, prompt: "Hello", max_tokens: 16 });
  return `curl -sS ${url}/v1/completions -H "Authorization: Bearer $${API_KEY_VARIABLE}" -H "Content-Type: application/json" -d '${body}'`;
}

/** How to put the key in the shell without printing it: the command, not the value. */
export function exportKeyLine(project: string, region?: string): string {
  return `export ${API_KEY_VARIABLE}=$(synkti endpoint --project-name ${project}${regionFlag({ region })} --show-key --output json | jq -r .apiKey)`;
}

const regionFlag = (options: { region?: string }) => (options.region ? ` --region ${options.region}` : "");
