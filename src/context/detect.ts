import { systemClock } from "../core/clock.js";
import { silentLogger } from "../core/log.js";
import { decide } from "./decide.js";
import { imdsSettingsFromEnv, type ImdsSettings } from "./imds-settings.js";
import { observeContext, type ObserveDeps } from "./observe.js";
import type { ContextReport } from "./types.js";

export interface ContextSettings {
  /** Root of sysfs, where DMI lives: /sys, or a folder a test filled. */
  sysfsRoot: string;
  imds: ImdsSettings;
}

/**
 * SYNKTI_SYSFS_ROOT moves the DMI layer to a folder (tests, and machines like CI without DMI);
 * the IMDS endpoint comes from the same variables the AWS SDK reads.
 */
export function contextSettingsFromEnv(env: NodeJS.ProcessEnv): ContextSettings {
  return { sysfsRoot: env.SYNKTI_SYSFS_ROOT?.trim() || "/sys", imds: imdsSettingsFromEnv(env) };
}

export interface DetectOptions extends ContextSettings {
  projectName?: string;
  signal?: AbortSignal;
}

/** Where am I: observe the three layers, then decide the role. Never throws for what it observes. */
export async function detectContext(options: DetectOptions, deps: Partial<ObserveDeps> = {}): Promise<ContextReport> {
  const observations = await observeContext(options, {
    clock: deps.clock ?? systemClock,
    log: deps.log ?? silentLogger,
    ...(deps.transport ? { transport: deps.transport } : {}),
  });
  return decide(observations, options.projectName ? { projectName: options.projectName } : {});
}
