import { usageError } from "../../core/errors.js";
import type { LoadBalancerView } from "./load-balancer.js";

/**
 * The endpoint's URL: the load balancer's DNS name, over HTTPS when it has an HTTPS listener (with a
 * certificate, HTTP only redirects), else HTTP. A non-default port is kept. `SYNKTI_ENDPOINT_URL`
 * replaces what is shown (a tunnel, a port-forward, the local cloud's stand-in), never what exists.
 */
export const ENDPOINT_URL_VARIABLE = "SYNKTI_ENDPOINT_URL";

export function loadBalancerUrl(lb: Pick<LoadBalancerView, "dnsName" | "listeners">): string {
  const https = lb.listeners.find((l) => l.protocol === "HTTPS");
  if (https) return `https://${lb.dnsName}${https.port === 443 ? "" : `:${https.port}`}`;
  const http = lb.listeners.find((l) => l.protocol === "HTTP");
  return `http://${lb.dnsName}${!http || http.port === 80 ? "" : `:${http.port}`}`;
}

const SAFE_PATH = /^[A-Za-z0-9._~\/%-]*$/;
const VALID = "an http:// or https:// URL with a host, e.g. http://127.0.0.1:8080 or https://llm.example.com/prefix (no user:password, query or fragment)";

/**
 * Reads and checks SYNKTI_ENDPOINT_URL: undefined when unset or empty; otherwise the URL without a
 * trailing slash (the curl line appends `/v1/completions`). A bad value is a usage error (exit 2)
 * that says what is valid. Credentials in the URL are refused: the key goes in a header, and a URL
 * is printed.
 */
export function endpointUrlOverride(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env[ENDPOINT_URL_VARIABLE]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badOverride(raw, "it is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw badOverride(raw, `its scheme is ${url.protocol.replace(/:$/, "")}`);
  if (url.hostname === "") throw badOverride(raw, "it has no host");
  if (url.username || url.password) throw badOverride(raw, "it carries a user or password");
  if (url.search || url.hash) throw badOverride(raw, "it has a query or fragment");
  // The URL is printed inside a shell command line (the curl example): only characters that need no quoting.
  if (!SAFE_PATH.test(url.pathname)) throw badOverride(raw, "its path has characters other than letters, digits and . _ ~ - / %");
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

function badOverride(raw: string, problem: string) {
  // The value is echoed only when it cannot be a secret-bearing URL (credentials are never echoed).
  const shown = /\/\/[^/]*@/.test(raw) ? "(value not shown: it holds credentials)" : `'${raw}'`;
  return usageError(
    "invalid-endpoint-url",
    `${ENDPOINT_URL_VARIABLE}=${shown} is not valid: ${problem}. It must be ${VALID}.`,
    `export ${ENDPOINT_URL_VARIABLE}=http://127.0.0.1:<port>   # or unset ${ENDPOINT_URL_VARIABLE} to show the load balancer's own URL`,
  );
}
