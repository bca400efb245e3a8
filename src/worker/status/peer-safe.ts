import { redactSecrets } from "../../core/redact.js";

/**
 * What leaves the worker on /status is read by peers and `synkti status`, and reachable by anything
 * on the workers' network, a compromised model server on a peer included (it has no instance
 * credentials: it must not learn through /status what only the role would tell it). The document
 * holds texts the agent did not write itself: AWS refusals in `failover.plan.problem` and timeline
 * details, the model server's exit reasons. From those, before they leave:
 * - the account id inside ARNs (`arn:aws:sts::<account>:assumed-role/...`): the user knows theirs;
 * - AWS's encoded authorization failure message: decoded (sts:DecodeAuthorizationMessage), it is
 *   the request's whole policy context (the worker's own log keeps the text as it came);
 * - anything that looks like a secret (the boot log's rules: `--api-key X`, `token=...`).
 * Pure, on the serialized body: none of these can contain a quote, so the JSON stays valid.
 */
const ARN_ACCOUNT = /(arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:)\d{12}(?=:)/g;
const ENCODED_MESSAGE = /(Encoded authorization failure message: ?)[A-Za-z0-9_-]+/g;

export function peerSafe(body: string): string {
  return redactSecrets(body).replace(ARN_ACCOUNT, "$1<account>").replace(ENCODED_MESSAGE, "$1<omitted>");
}
