import { systemClock } from "../core/clock.js";
import { silentLogger } from "../core/log.js";
import { decide } from "./decide.js";
import { interpretDmi, readDmi } from "./dmi.js";
import { imdsSettingsFromEnv, type ImdsSettings } from "./imds-settings.js";
import { observeContext, type ObserveDeps } from "./observe.js";
import type { ContextReport } from "./types.js";
import { contextCacheFromEnv, recallVerdict, rememberable, rememberVerdict, verdictKey, type ContextCacheSettings } from "./verdict-cache.js";

export interface ContextSettings {
  /** Root of sysfs, where DMI lives: /sys, or a folder a test filled. */
  sysfsRoot: string;
  imds: ImdsSettings;
  /** Where a "not EC2" verdict is remembered for the boot; absent: always observe afresh. */
  cache?: ContextCacheSettings;
}

/**
 * SYNKTI_SYSFS_ROOT moves the DMI layer to a folder (tests, and machines like CI without DMI);
 * the IMDS endpoint comes from the same variables the AWS SDK reads; SYNKTI_CONTEXT_CACHE=off
 * turns the per-boot verdict cache off.
 */
export function contextSettingsFromEnv(env: NodeJS.ProcessEnv): ContextSettings {
  const cache = contextCacheFromEnv(env);
  return { sysfsRoot: env.SYNKTI_SYSFS_ROOT?.trim() || "/sys", imds: imdsSettingsFromEnv(env), ...(cache && { cache }) };
}

export interface DetectOptions extends ContextSettings {
  projectName?: string;
  signal?: AbortSignal;
}

/** Where am I: observe the three layers, then decide the role. Never throws for what it observes. */
export async function detectContext(options: DetectOptions, deps: Partial<ObserveDeps> = {}): Promise<ContextReport> {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const decideFor = { ...(options.projectName ? { projectName: options.projectName } : {}) };
  const { cache } = options;
  // With a cache, DMI is read first: a remembered verdict is only for a machine DMI does not call EC2.
  const dmi = cache ? interpretDmi(await readDmi(options.sysfsRoot)) : undefined;
  const key = cache ? await verdictKey(cache, options) : undefined;
  if (cache && key && dmi) {
    const remembered = await recallVerdict(cache, key, dmi);
    log.debug({ file: cache.file, hit: remembered !== undefined }, "context: remembered verdict");
    if (remembered) return decide(remembered, decideFor);
  }
  const observations = await observeContext({ ...options, ...(dmi && { dmi }) }, {
    clock,
    log,
    ...(deps.transport ? { transport: deps.transport } : {}),
  });
  const report = decide(observations, decideFor);
  if (cache && key && rememberable(observations, report)) {
    const kept = await rememberVerdict(cache, key, observations, clock.now());
    log.debug({ file: cache.file, kept }, "context: verdict remembered for this boot");
  }
  return report;
}
