/**
 * The census: from a member's listing (and fresher single-instance checks) and the desired size,
 * which slots are held, which are empty and why, who is surplus, which holders are duplicates, and
 * which never served. Pure; every member computes the same from the same view.
 */
import type { Census, CensusInput, SeenInstance } from "./types.js";

/** Every state in which an instance can still become or be a worker. */
export const LIVE_EC2_STATES = new Set(["pending", "running"]);

/** Parses SynktiSlot: plain decimal, 0..9999; anything else is no slot (tags are untrusted). */
export function parseSlot(value: string | undefined): number | undefined {
  throw new Error("not implemented");
}

export function census(input: CensusInput): Census {
  throw new Error("not implemented");
}

/** The instance as the census sees it: the listing's entry with a newer check's state laid over. */
export function withChecks(instances: readonly SeenInstance[], checks: CensusInput["checks"]): SeenInstance[] {
  throw new Error("not implemented");
}
