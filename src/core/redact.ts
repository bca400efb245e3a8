/**
 * Values that look like secrets are replaced before a text leaves where it was made: a model server
 * may print its own arguments (vLLM logs `api_key` among its non-default args), an operator's
 * command may carry `--api-key X`, a failing `credential_process` command line `--token X`.
 * scripts/user-data.sh.tpl's redact() applies the same two rules (tested against each other in
 * test/unit/worker/trace.test.ts).
 */
const SECRET_FLAG = /(--[a-z-]*(?:api-key|token|secret|password)[a-z-]*)([ =]+)[^ \n]+/gi;
const SECRET_VALUE = /((?:api[_-]?key|secret[a-z_-]*|password|token)(?:\\?["'])?[ \t]*[:=][ \t]*\[?(?:\\?["'])?)[^\s"'\\,}\]]+/gi;

/**
 * `known`: secret values the agent holds (the project's API key), replaced wherever they appear,
 * whatever surrounds them (a model server echoing its environment, a custom command's output).
 */
export function redactSecrets(text: string, known: Iterable<string> = []): string {
  let out = text;
  for (const value of known) if (value.length >= 8) out = out.split(value).join("<redacted>");
  return out.replace(SECRET_FLAG, "$1$2<redacted>").replace(SECRET_VALUE, "$1<redacted>");
}

