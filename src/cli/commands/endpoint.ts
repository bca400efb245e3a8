import type { Command } from "commander";
import { exportKeyLine, type EndpointResult } from "../../deployer/endpoint/endpoint.js";
import type { EndpointSummary } from "../../deployer/endpoint/summary.js";
import { projectNames } from "../../infra/names.js";
import { printResult } from "../output.js";
import { examples } from "../program.js";
import { fleetCommand } from "./fleet-command.js";

/**
 * `synkti endpoint`: the URL, the model and where the key is, plus a request to copy. The key itself
 * only with --show-key (then it is read from SSM and is in the output: the flag is the consent).
 */
export function registerEndpoint(program: Command): void {
  const description = "the project's endpoint: the load balancer's URL, the model it serves, where the API key is, and a curl line";
  fleetCommand(program, "endpoint", description, async ({ project, common, deps, options }) => {
    const [{ describeEndpoint }, { endpointUrlOverride }] = await Promise.all([import("../../deployer/endpoint/endpoint.js"), import("../../deployer/endpoint/url.js")]);
    const urlOverride = endpointUrlOverride(); // a bad SYNKTI_ENDPOINT_URL: exit 2 before any AWS call
    const showKey = options.showKey === true;
    const result = await deps.doing("reading the project's endpoint", () =>
      describeEndpoint(deps.fleet, projectNames(project), { showKey, ...(urlOverride ? { urlOverride } : {}), ...(deps.region ? { region: deps.region } : {}) }),
    );
    printResult(common.output, result, () => renderEndpoint(result, deps.region));
  })
    .option("--show-key", "also read the API key from SSM (decrypted) and print it", false)
    .addHelpText(
      "after",
      examples(
        "synkti endpoint --project-name my-app",
        "export SYNKTI_API_KEY=$(synkti endpoint --project-name my-app --show-key --output json | jq -r .apiKey)",
        "SYNKTI_ENDPOINT_URL=http://127.0.0.1:8080 synkti endpoint --project-name my-app   # through a tunnel",
      ),
    );
}

export function renderEndpoint(r: EndpointResult, region?: string): string {
  const lines = [
    `Endpoint of ${r.project}: ${r.url}`,
    ...(r.urlSource === "load-balancer" ? [] : [`  (from ${r.urlSource}; the load balancer itself: ${r.loadBalancerUrl})`]),
    `Model:   ${r.model ?? (r.models.length > 1 ? `several: ${r.models.join(", ")}` : "none running")}`,
    `API key: SSM SecureString ${r.apiKeyParameter}${r.apiKey === undefined ? "   (shown with --show-key)" : ""}`,
    ...r.warnings.map((w) => `Warning: ${w}`),
    "",
    // Single quotes: a base64url key needs none, but a pasted line stays one word whatever it holds.
    r.apiKey === undefined ? exportKeyLine(r.project, region) : `export SYNKTI_API_KEY='${r.apiKey.replaceAll("'", "'\\''")}'`,
    r.curl,
  ];
  return lines.join("\n");
}

/** The launch's epilogue (see endpointSummary): the URL and a request to copy, never the key. */
export function renderEndpointSummary(s: EndpointSummary, region?: string): string {
  if (!s.endpoint) return `Endpoint: unavailable: ${s.unavailable}`;
  const e = s.endpoint;
  return [`Endpoint: ${e.url}${e.model ? `  (model ${e.model})` : ""}`, `  ${exportKeyLine(e.project, region)}`, `  ${e.curl}`].join("\n");
}
