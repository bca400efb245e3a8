import { readFile } from "node:fs/promises";
import { uptime } from "node:os";
import path from "node:path";
import { usageError } from "../core/errors.js";
import { readCacheFile, userCacheDir, writeCacheFile } from "../core/user-cache.js";
import type { DmiObservation } from "./dmi.js";
import type { ImdsSettings } from "./imds-settings.js";
import type { ContextReport, IdentityObservation, ImdsObservation, Observations, TagsObservation } from "./types.js";

/**
 * "Not EC2" remembered for the rest of the boot. A laptop on a network that drops link-local
 * traffic waits the whole IMDS probe deadline (1 s) on every command; whether a machine is an EC2
 * instance cannot change without a reboot, so the first verdict is kept in a per-user file
 * (mode 0600) and reused while the boot id, the IMDS endpoint, AWS_EC2_METADATA_DISABLED and the
 * sysfs root are the same.
 *
 * Only the slow deployer verdict is kept: no identity document because the metadata service timed
 * out, no contradiction, and firmware (DMI) that does not name EC2. A refused connection is
 * already fast and a port can be reused later in the same boot, so it is asked again each time.
 * DMI is read afresh on every run (microseconds) and a machine whose DMI says EC2 never consults
 * the file: it always asks its metadata service. SYNKTI_CONTEXT_CACHE=off turns all of this off.
 */
export interface ContextCacheSettings {
  /** The cache file: `<user cache dir>/context.json`. */
  file: string;
  /** Where /proc is: the boot id is `<procRoot>/sys/kernel/random/boot_id` (tests move it). */
  procRoot: string;
}

export const CONTEXT_CACHE_FILE = "context.json";
/** Old keys (other endpoints, sysfs roots, boots) drop out beyond this many entries. */
const MAX_ENTRIES = 8;

export function contextCacheFromEnv(env: NodeJS.ProcessEnv): ContextCacheSettings | undefined {
  const raw = env.SYNKTI_CONTEXT_CACHE ?? "";
  const value = raw.trim().toLowerCase();
  if (value === "off") return undefined;
  if (value !== "" && value !== "on") {
    // The up-front environment check (src/cli/environment.ts) borrows this one: one rule, one wording.
    throw usageError(
      "invalid-environment",
      `SYNKTI_CONTEXT_CACHE='${raw}' is not valid; it must be on or off.`,
      "export SYNKTI_CONTEXT_CACHE=off   # or: unset SYNKTI_CONTEXT_CACHE",
    );
  }
  return { file: path.join(userCacheDir(env), CONTEXT_CACHE_FILE), procRoot: "/proc" };
}

/**
 * This boot's identity: the kernel's random boot id. Without /proc (macOS), the boot time to the
 * minute; a clock step can only make it differ, which costs one slow run, never a wrong verdict.
 */
export async function readBootId(procRoot: string): Promise<string> {
  const id = await readFile(path.join(procRoot, "sys", "kernel", "random", "boot_id"), "utf8").catch(() => "");
  if (/^[0-9a-f-]{16,64}$/i.test(id.trim())) return id.trim().toLowerCase();
  return `boot-time:${Math.round((Date.now() - uptime() * 1000) / 60_000)}`;
}

export async function verdictKey(cache: ContextCacheSettings, settings: { sysfsRoot: string; imds: ImdsSettings }): Promise<string> {
  return JSON.stringify({
    boot: await readBootId(cache.procRoot),
    endpoint: settings.imds.endpoint,
    metadataDisabled: settings.imds.disabled,
    sysfsRoot: path.resolve(settings.sysfsRoot),
  });
}

/** Pure: is this verdict one to keep for the rest of the boot? */
export function rememberable(obs: Observations, report: ContextReport): boolean {
  return (
    report.role === "deployer" &&
    report.contradiction === undefined &&
    obs.dmi.status !== "ec2" &&
    obs.imds.status === "timeout" &&
    obs.identity.status === "not-fetched" &&
    obs.tags.status === "not-fetched"
  );
}

interface Entry {
  key: string;
  at: string;
  imds: ImdsObservation;
  identity: IdentityObservation;
  tags: TagsObservation;
}

async function readEntries(file: string): Promise<Entry[]> {
  const text = await readCacheFile(file);
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as { entries?: unknown };
    return Array.isArray(parsed.entries) ? parsed.entries.filter(isEntry) : [];
  } catch {
    return []; // a damaged file is overwritten by the next verdict
  }
}

/** The file is ours, but checked like any input: only a timed-out probe with nothing fetched passes. */
function isEntry(value: unknown): value is Entry {
  const e = value as Partial<Entry> | null;
  return (
    typeof e === "object" && e !== null &&
    typeof e.key === "string" && typeof e.at === "string" &&
    e.imds?.status === "timeout" && typeof e.imds.endpoint === "string" && typeof e.imds.detail === "string" &&
    e.identity?.status === "not-fetched" && typeof e.identity.detail === "string" &&
    e.tags?.status === "not-fetched" && typeof e.tags.detail === "string"
  );
}

/**
 * The remembered observations for `key`, with today's DMI, or undefined. Never for a machine whose
 * DMI says EC2, whatever the file holds.
 */
export async function recallVerdict(cache: ContextCacheSettings, key: string, dmi: DmiObservation): Promise<Observations | undefined> {
  if (dmi.status === "ec2") return undefined;
  const entry = (await readEntries(cache.file)).find((e) => e.key === key);
  if (!entry) return undefined;
  const imds: ImdsObservation = {
    ...entry.imds,
    detail: `${entry.imds.detail} (remembered from ${entry.at}, same boot; SYNKTI_CONTEXT_CACHE=off asks again)`,
    remembered: { at: entry.at, file: cache.file },
  };
  return { dmi, imds, identity: entry.identity, tags: entry.tags };
}

/** Keeps a rememberable verdict; returns whether it was written (false when the file cannot be). */
export async function rememberVerdict(cache: ContextCacheSettings, key: string, obs: Observations, now: number): Promise<boolean> {
  const { remembered: _remembered, ...imds } = obs.imds;
  const entry: Entry = { key, at: new Date(now).toISOString(), imds, identity: obs.identity, tags: obs.tags };
  const others = (await readEntries(cache.file)).filter((e) => e.key !== key);
  const entries = [...others, entry].slice(-MAX_ENTRIES);
  return writeCacheFile(cache.file, `${JSON.stringify({ version: 1, entries }, null, 2)}\n`);
}
