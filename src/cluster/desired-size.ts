/**
 * The bound on cluster/desired.json's `workers` (desired.ts), apart from its zod schema: slot tags
 * are parsed by code every command loads (status rendering, via repair/slot.ts), and zod's
 * evaluation is a third of `synkti --help`'s start-up.
 */

/** Far above any real fleet; a larger number is a typo or an attack, not intent. */
export const MAX_DESIRED_WORKERS = 10_000;
