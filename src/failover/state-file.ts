import { z } from "zod";
import type { FailoverState } from "./draft.js";
import { initialState } from "./machine.js";
import type { FailoverSettings } from "./types.js";

/**
 * The failover's progress on disk: the whole machine state (history included), written by the
 * runner after every transition and before it performs that transition's effects, so a launch is
 * never made without the file saying it may have been.
 *
 * Resume rule (`resumeFrom`): a file for the same doomed instance and project is taken as the
 * state, and the runner feeds the machine a `resumed` event: reads in flight are asked again, and
 * a SPAWN without a known replacement searches for `SynktiReplaces=<doomed id>` before any launch
 * (a launch in the same pool then reuses its ClientToken). A file that does not parse, or is for
 * another instance, is ignored: starting afresh is safe because of the same search.
 */
export const STATE_FILE_VERSION = 1;

const pool = z.object({ instanceType: z.string(), zone: z.string() });
const candidate = pool.extend({ market: z.enum(["spot", "on-demand"]) });
const phaseName = z.enum(["drain", "select", "spawn", "health"]);
const phaseState = z.enum(["pending", "running", "done", "failed", "skipped", "handed-over"]);
const trigger = z.enum(["spot-interruption", "rebalance-recommendation", "rebalance-then-notice"]);
const request = z.object({ candidate, clientToken: z.string().regex(/^[0-9a-f]{64}$/), launchId: z.string(), tags: z.record(z.string(), z.string()) });

const history = z.discriminatedUnion("type", [
  z.object({ at: z.number(), type: z.literal("started"), trigger }),
  z.object({ at: z.number(), type: z.literal("trigger"), trigger }),
  z.object({ at: z.number(), type: z.literal("deadline"), deadlineAt: z.number() }),
  z.object({ at: z.number(), type: z.literal("phase"), phase: phaseName, state: phaseState, detail: z.string().optional() }),
  z.object({ at: z.number(), type: z.literal("replacement"), instanceId: z.string() }),
]);

const settings = z.object({
  project: z.string(),
  doomed: z.object({ instanceId: z.string(), instanceType: z.string(), zone: z.string(), slot: z.string().optional() }),
  instanceTypes: z.array(z.string()),
  onDemandFallback: z.boolean(),
  healthBudgetMs: z.number(),
  healthPollMs: z.number(),
  throttleBackoffMs: z.number(),
  failureMemoryMs: z.number(),
});

const state = z.object({
  settings,
  status: z.enum(["idle", "running", "retired", "abandoned"]),
  noticeIds: z.array(z.string()),
  noticeTime: z.number().optional(),
  deadlines: z.object({ drain: z.number().optional(), select: z.number(), spawn: z.number(), watch: z.number().optional() }).optional(),
  candidates: z.array(candidate),
  failures: z.array(z.object({ candidate: pool.extend({ market: z.enum(["spot", "on-demand"]).optional() }), at: z.number(), reason: z.enum(["capacity", "throttled", "refused", "unhealthy"]) })),
  attempt: z.object({ request, throttles: z.number(), inFlight: z.boolean(), retryAt: z.number().optional() }).optional(),
  replacement: z.object({ instanceId: z.string(), candidate: candidate.optional(), launchedAt: z.number(), healthDeadline: z.number() }).optional(),
  retry: z.object({ effect: z.enum(["observe-pools", "find-replacement", "terminate-self"]), at: z.number() }).optional(),
  nextCheckAt: z.number().optional(),
  history: z.array(history),
});

// The schema and the machine's state type must not drift apart: tsc checks both directions.
type Saved = z.infer<typeof state>;
type Same = Saved extends FailoverState ? (FailoverState extends Saved ? true : false) : false;
export const STATE_SCHEMA_MATCHES: Same = true;

export const StateFileSchema = z.object({ version: z.literal(STATE_FILE_VERSION), savedAt: z.number(), state });
export type StateFile = z.infer<typeof StateFileSchema>;

export function toStateFile(current: FailoverState, savedAt: number): StateFile {
  return { version: STATE_FILE_VERSION, savedAt, state: current };
}

/** The state to start from: the file's when it is this failover's, else a fresh one. */
export function resumeFrom(settings: FailoverSettings, file: unknown): { state: FailoverState; resumed: boolean; problem?: string } {
  const parsed = StateFileSchema.safeParse(file);
  if (file === undefined) return { state: initialState(settings), resumed: false };
  if (!parsed.success) return { state: initialState(settings), resumed: false, problem: `state file unreadable: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  const saved = parsed.data.state;
  if (saved.settings.doomed.instanceId !== settings.doomed.instanceId || saved.settings.project !== settings.project) {
    return { state: initialState(settings), resumed: false, problem: `state file is for ${saved.settings.doomed.instanceId} (${saved.settings.project}), not this worker` };
  }
  return { state: saved, resumed: true };
}
