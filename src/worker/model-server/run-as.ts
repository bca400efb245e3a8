import { readFileSync } from "node:fs";

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
