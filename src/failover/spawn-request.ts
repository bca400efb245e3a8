import { createHash } from "node:crypto";
import { TAG_REPLACES, TAG_SLOT } from "../infra/names.js";
import type { Candidate, Doomed, LaunchRequest } from "./types.js";

/**
 * SPAWN's exactly-once parts, pure. Three guards, each covering what the others cannot:
 * 1. before any launch the machine looks for a live instance tagged `SynktiReplaces=<doomed id>`
 *    (a replacement launched by an earlier run of this agent, answer seen or not);
 * 2. the ClientToken: the same request twice returns the first instance on AWS (moto ignores it,
 *    so tests rely on 1);
 * 3. the state file: a restarted agent resumes with 1 instead of launching.
 */

/** TAG_LAUNCH's value for a replacement: its own launch, found (and undone) by that tag. */
export const replacementLaunchId = (doomedId: string) => `r-${doomedId}`;

/**
 * Hex SHA-256 (64 characters, AWS's ClientToken maximum) of project, doomed id and pool: stable
 * across restarts, different per pool so a capacity error in one pool does not block the next.
 * The market is part of the pool's identity here: an on-demand retry is a different request.
 */
export function replacementClientToken(project: string, doomedId: string, candidate: Candidate): string {
  const pool = `${candidate.instanceType}/${candidate.zone}${candidate.market === "on-demand" ? "/on-demand" : ""}`;
  return createHash("sha256").update(`${project}\n${doomedId}\n${pool}`).digest("hex");
}

export function replacementTags(doomed: Doomed): Record<string, string> {
  return { [TAG_REPLACES]: doomed.instanceId, ...(doomed.slot !== undefined ? { [TAG_SLOT]: doomed.slot } : {}) };
}

export function launchRequest(project: string, doomed: Doomed, candidate: Candidate): LaunchRequest {
  return {
    candidate,
    clientToken: replacementClientToken(project, doomed.instanceId, candidate),
    launchId: replacementLaunchId(doomed.instanceId),
    tags: replacementTags(doomed),
  };
}
