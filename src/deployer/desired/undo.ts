/**
 * A launch undone (an error, Ctrl-C) takes its intent with it, like its instances: the slot claims
 * it made are removed once its instances are confirmed gone (so the slots can be filled again at
 * once, not after the stale time), and a desired size it raised is put back (or the live workers
 * would launch what the operator just cancelled). Best effort, never throws: it says what it did,
 * for the launch's error.
 */
import type { ProjectNames } from "../../infra/names.js";
import { releaseClaims, type ClaimDeps, type ClaimOutcome } from "./claims.js";
import { restoreDesired, type DesiredWrite } from "./store.js";
import { messageOf } from "../../core/errors.js";

export async function undoIntent(deps: ClaimDeps, names: ProjectNames, undo: { gone: boolean; claims: ClaimOutcome | undefined; written: DesiredWrite | undefined }): Promise<string> {
  const { claims, written } = undo;
  // Claims of instances not confirmed gone stay: their slots may still fill (they go stale otherwise).
  if (claims && claims.claimed.length > 0 && undo.gone) await releaseClaims(deps, names, claims.claimed.map((c) => c.key));
  if (!written) return "";
  try {
    const outcome = await restoreDesired(deps, names, written);
    const before = written.previous.status === "set" ? `${written.previous.desired.workers}` : "unset";
    return outcome === "restored" ? `The desired size is back to ${before}.` : "The desired size was changed by another deployer meanwhile and is left as it is.";
  } catch (error) {
    return `The desired size could not be put back (${messageOf(error)}); it stays ${written.desired.workers}: the workers repair towards it.`;
  }
}
