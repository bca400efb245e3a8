import { open } from "node:fs/promises";
import { LOG_TAIL_BYTES } from "../../cluster/failure-record.js";

/**
 * Values that look like secrets are replaced before a log leaves the instance: a model server may
 * print its own arguments (vLLM logs `api_key` among its non-default args), an operator's command
 * may carry `--api-key X`. scripts/user-data.sh.tpl's redact() applies the same two rules (tested
 * against each other in test/unit/worker/trace.test.ts).
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

/** How much of the boot log a worker leaves in S3: enough for the last minutes, small to store. */
export const BOOT_LOG_TAIL_BYTES = LOG_TAIL_BYTES;

/**
 * The last `maxBytes` of the boot log (user-data's output and the agent's, teed by user-data into
 * one file, see scripts/user-data.sh.tpl). When the file is longer, the partial first line is
 * dropped, so the tail never starts inside a line (or inside a UTF-8 character); secrets (and the
 * `known` values) are redacted. Undefined when the
 * file cannot be read: the log is a courtesy, never a reason to fail.
 */
export async function readLogTail(file: string, maxBytes = BOOT_LOG_TAIL_BYTES, known: Iterable<string> = []): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(file, "r");
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    let tail = buffer.subarray(0, bytesRead);
    if (start > 0) {
      const newline = tail.indexOf(0x0a);
      tail = newline >= 0 ? tail.subarray(newline + 1) : tail;
    }
    return redactSecrets(tail.toString("utf8"), known);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}
