/**
 * `cluster/desired.json` (ProjectNames.desiredKey): how many workers the operator wants. A wire
 * contract between the deployer, its only writer (conditional writes, src/deployer), and the
 * workers, its readers (src/worker/repair). It is intent, not a model of reality: members are still
 * the tagged instances. Read as untrusted input (bounded, strictly parsed).
 */
import { z } from "zod";
import { parseBoundedJson } from "../core/bounded-json.js";
import { MAX_DESIRED_WORKERS } from "./desired-size.js";

/** A desired.json is a few dozen bytes; a reader refuses anything larger than this. */
export const DESIRED_MAX_BYTES = 4096;

export const DesiredSchema = z.object({
  workers: z.number().int().min(0).max(MAX_DESIRED_WORKERS),
  /** When the deployer wrote it (ISO 8601, UTC): a new intent is a new generation of slot fills. */
  setAt: z.string().datetime(),
});
export type Desired = z.infer<typeof DesiredSchema>;

/** The parsed document, or the reason it is not one (the caller says what it does without it). */
export function parseDesired(text: string): { desired: Desired } | { problem: string } {
  const parsed = parseBoundedJson(text, DesiredSchema, DESIRED_MAX_BYTES);
  return "value" in parsed ? { desired: parsed.value } : parsed;
}

/** The generation of a desired size: claims for slots never filled are named after it. */
export const desiredGeneration = (desired: Desired): string => `d${Date.parse(desired.setAt)}`;
