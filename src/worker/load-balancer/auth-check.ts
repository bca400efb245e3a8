import { httpGet } from "../../core/http-client.js";
import { messageOf } from "../../core/errors.js";

/** Only the status code is read; a model list is a few KiB. */
const MAX_BYTES = 1024 * 1024;

/** A path vLLM guards with its API key (every path under /v1 is; /health and /metrics are not). */
export const GUARDED_PATH = "/v1/models";

export type AuthCheck =
  | { kind: "enforced" }
  /** Definite: the model server would serve anyone, or not the project's clients. Never register. */
  | { kind: "open" | "wrong-key"; reason: string }
  /** Could not tell (an error, an unexpected status): ask again. */
  | { kind: "inconclusive"; reason: string };

/**
 * Proves the model server's authentication is really on before this worker takes traffic from the
 * load balancer: `GET /v1/models` without the key must answer 401 (vLLM's AuthenticationMiddleware
 * with VLLM_API_KEY set), and with `Authorization: Bearer <key>` 200 (it holds the project's key,
 * not one from an `--api-key` in the command). The key is sent only to the model server's own
 * address on this instance.
 */
export async function checkModelServerAuth(baseUrl: string, apiKey: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<AuthCheck> {
  const url = `${baseUrl}${GUARDED_PATH}`;
  const ask = async (headers: Record<string, string>) => {
    try {
      return (await httpGet(url, { ...options, headers, maxBytes: MAX_BYTES })).status;
    } catch (error) {
      return messageOf(error);
    }
  };
  const anonymous = await ask({});
  if (typeof anonymous === "string") return { kind: "inconclusive", reason: `${GUARDED_PATH} did not answer: ${anonymous}` };
  if (anonymous >= 200 && anonymous < 300) {
    return { kind: "open", reason: `the model server answers ${GUARDED_PATH} without the API key (HTTP ${anonymous}): its authentication is off; the model server command must honour VLLM_API_KEY, as vllm serve does` };
  }
  if (anonymous !== 401) return { kind: "inconclusive", reason: `${GUARDED_PATH} without the API key answered HTTP ${anonymous}, expected 401` };
  const keyed = await ask({ authorization: `Bearer ${apiKey}` });
  if (keyed === 200) return { kind: "enforced" };
  if (keyed === 401 || keyed === 403) {
    return { kind: "wrong-key", reason: `the model server refuses the project's API key on ${GUARDED_PATH} (HTTP ${keyed}): it uses another key (an --api-key in the model server command wins over VLLM_API_KEY); remove it` };
  }
  return { kind: "inconclusive", reason: `${GUARDED_PATH} with the API key answered ${typeof keyed === "number" ? `HTTP ${keyed}` : keyed}, expected 200` };
}
