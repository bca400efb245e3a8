import { readFileSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { SynktiError } from "../../core/errors.js";

/**
 * The model server's own user (issue 14 item 2). vLLM is a large, network-facing server and needs
 * no AWS credentials; the agent needs the instance role. On the host the IMDS hop limit does not
 * separate them, so user-data (scripts/user-data.sh.tpl, "model server user and metadata block")
 * creates this user and rejects its packets to the metadata addresses, and the agent, running as
 * root, starts the model server as this user. Elsewhere (tests, the local cloud, an agent started by
 * hand without root) nothing changes: the model server runs as the agent's own user.
 */
export const MODEL_SERVER_USER = "synkti-model";

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
  home: string;
}

/** The user's entry in passwd(5) text (`name:x:uid:gid:gecos:home:shell`), or undefined. */
export function passwdEntry(passwd: string, user: string): RunAs | undefined {
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid, , home] = line.split(":");
    if (name !== user || uid === undefined || gid === undefined) continue;
    const [u, g] = [Number(uid), Number(gid)];
    if (!Number.isInteger(u) || !Number.isInteger(g) || u <= 0) return undefined; // never "become" root
    return { user, uid: u, gid: g, home: home || "/" };
  }
  return undefined;
}

export interface RunAsDeps {
  /** process.getuid (undefined on platforms without users). */
  getuid: (() => number) | undefined;
  readPasswd(): string | undefined;
}

export const systemRunAsDeps: RunAsDeps = {
  getuid: process.getuid?.bind(process),
  readPasswd: () => {
    try {
      return readFileSync("/etc/passwd", "utf8");
    } catch {
      return undefined;
    }
  },
};

/** Who the model server runs as: MODEL_SERVER_USER when the agent is root and the user exists, else undefined (the agent's own user). */
export function modelServerRunAs(deps: RunAsDeps): RunAs | undefined {
  if (deps.getuid?.() !== 0) return undefined;
  const passwd = deps.readPasswd();
  return passwd === undefined ? undefined : passwdEntry(passwd, MODEL_SERVER_USER);
}

/** The spawn options and environment of a process started as `runAs` (HOME and USER follow the user: vLLM caches under HOME). */
export function asUser(runAs: RunAs | undefined, env: NodeJS.ProcessEnv): { ids: { uid: number; gid: number } | Record<string, never>; env: NodeJS.ProcessEnv } {
  if (!runAs) return { ids: {}, env };
  return { ids: { uid: runAs.uid, gid: runAs.gid }, env: { ...env, HOME: runAs.home, USER: runAs.user, LOGNAME: runAs.user } };
}

/**
 * Whether `runAs` can open the model folder `dir`: search (x) on every folder above it and read
 * and search on the folder itself, from the mode bits that apply to it (owner, group, other; the
 * user has no supplementary groups: the spawn drops them). The fetch leaves its own folders 0755,
 * but not those above the model folder it did not create (a `/models` made 0700 by an image or an
 * operator): vLLM would then crash-loop on "Permission denied" until the agent gave up. Undefined
 * when it can (or the folder is not there yet: the preflight says so), else the refusal with the
 * command that opens the folder in the way.
 */
export async function modelFolderRefusal(runAs: RunAs, dir: string, statOf: (p: string) => Promise<{ uid: number; gid: number; mode: number }> = stat): Promise<SynktiError | undefined> {
  const real = await realpath(dir).catch(() => undefined);
  if (real === undefined) return undefined;
  const chain: string[] = [];
  for (let at = real; ; at = path.dirname(at)) {
    chain.unshift(at);
    if (at === path.dirname(at)) break;
  }
  for (const folder of chain) {
    const seen = await statOf(folder);
    const shift = seen.uid === runAs.uid ? 6 : seen.gid === runAs.gid ? 3 : 0;
    const needs = folder === real ? 0o5 : 0o1;
    if ((((seen.mode >> shift) & 0o7) & needs) === needs) continue;
    const mode = (seen.mode & 0o777).toString(8).padStart(4, "0");
    return new SynktiError(`The model server runs as ${runAs.user}, which cannot ${needs === 0o5 ? "read" : "pass through"} ${folder} (mode ${mode}, owner uid ${seen.uid}) to reach ${dir}; not starting it.`, {
      code: "model-folder-unreadable",
      kind: "unsafe",
      fault: "user",
      remedy: `sudo chmod o+${needs === 0o5 ? "rx" : "x"} ${folder}   # on the instance, or in the image the workers launch from`,
    });
  }
  return undefined;
}
