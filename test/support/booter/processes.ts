/**
 * Finding and killing every process of a local instance, the way AWS ends an instance: all of it,
 * at once, whatever the processes did to detach themselves.
 *
 * An instance's processes are found three ways, because each alone can miss some:
 * - its process group (the user-data shell is started as a group leader; the worker it runs inherits it);
 * - descendants of its leader by parent pid (a child that called setsid() leaves the group, e.g. a
 *   model server started with `detached: true`, but still has a parent in the tree);
 * - a marker variable in the environment (SYNKTI_LOCAL_CLOUD_INSTANCE), inherited by everything it
 *   starts, which still finds a re-parented grandchild whose parent already died.
 * Linux only (reads /proc); that is where the local cloud runs.
 */
import { readdirSync, readFileSync } from "node:fs";

export const MARKER_VARIABLE = "SYNKTI_LOCAL_CLOUD_INSTANCE";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** argv joined by spaces ("" for a zombie). */
  command: string;
}

function readProcess(pid: number): (ProcessInfo & { environ: string }) | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined; // a zombie is already dead; only its parent can reap it
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    let environ = "";
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    } catch {
      // another user's process: not ours to find or kill
    }
    return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), command, environ };
  } catch {
    return undefined; // exited while we looked
  }
}

function allProcesses(): Array<ProcessInfo & { environ: string }> {
  const found = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info) found.push(info);
  }
  return found;
}

/**
 * Processes belonging to an instance: members of its process group (`groupId`, the user-data
 * shell's pid; a group id is never reused while a member lives), carriers of its marker, and
 * descendants of either.
 */
export function instanceProcesses(groupId: number | undefined, marker: string): ProcessInfo[] {
  const all = allProcesses();
  const mine = new Set<number>();
  const needle = `${MARKER_VARIABLE}=${marker}\0`;
  for (const p of all) {
    if ((groupId !== undefined && p.pgid === groupId) || p.environ.includes(needle)) mine.add(p.pid);
  }
  // Descendants of anything already found, until nothing new turns up.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => mine.has(p.pid)).map(({ pid, ppid, pgid, command }) => ({ pid, ppid, pgid, command }));
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/**
 * Sends `name` to every process of the instance. SIGKILL is repeated while processes are left
 * (one may fork while we kill), up to `rounds` scans; other signals are sent once and the caller
 * waits and escalates: each process gets them exactly once (the group's members through the group,
 * the others one by one), as a shutdown's SIGTERM would; a second SIGTERM means "hurry" to some
 * programs. Returns the pids signalled one by one.
 */
export async function signalInstance(groupId: number | undefined, marker: string, name: NodeJS.Signals, rounds = 20): Promise<number[]> {
  const signalled = new Set<number>();
  if (groupId !== undefined) signal(-groupId, name); // the fast path: one syscall for the usual case
  for (let round = 0; round < (name === "SIGKILL" ? rounds : 1); round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25));
    const left = instanceProcesses(groupId, marker).filter((p) => p.pid !== process.pid);
    if (left.length === 0) break;
    for (const p of left) {
      if (name !== "SIGKILL" && p.pgid === groupId) continue; // the group signal reached it
      signal(p.pid, name);
      signalled.add(p.pid);
    }
  }
  return [...signalled];
}

/** Synchronous SIGKILL of everything, for a process "exit" hook, where nothing async runs. */
export function signalInstanceNow(groupId: number | undefined, marker: string): void {
  if (groupId !== undefined) signal(-groupId, "SIGKILL");
  for (const p of instanceProcesses(groupId, marker)) if (p.pid !== process.pid) signal(p.pid, "SIGKILL");
}
