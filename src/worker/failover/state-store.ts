import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { StateStore } from "../../failover/ports.js";

/** The failover's state file, in the state directory: on the instance's root volume. */
export const STATE_FILE_NAME = "failover.json";

/**
 * The failover's progress on local disk (SYNKTI_STATE_DIR, default `<models dir>/.synkti`): it
 * outlives the agent (user-data restarts a crashed agent) but not the instance, which is all the
 * exactly-once rule needs. Written to a temporary file and renamed, so a crash mid-write leaves
 * the previous state, never half a file. A repair's launch keeps its own file (`fileName`) next to it.
 */
export function fileStateStore(dir: string, fileName = STATE_FILE_NAME): StateStore {
  const file = path.join(dir, fileName);
  return {
    async load() {
      const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return { unparsable: true }; // resumeFrom says why it ignores it
      }
    },
    async save(state) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
      await rename(temporary, file);
    },
  };
}
