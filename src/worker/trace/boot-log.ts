import { open } from "node:fs/promises";
import { LOG_TAIL_BYTES } from "../../cluster/failure-record.js";
import { redactSecrets } from "../../core/redact.js";

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
