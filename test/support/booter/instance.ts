/**
 * One booted instance: its folder, its IMDS emulator, and its processes (the user-data shell and
 * everything it starts), which live in their own process group. `end()` stops all of them (SIGTERM,
 * a grace period, SIGKILL) and then the emulator, as EC2 ends an instance; the folder stays for
 * post-mortems.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ImdsEmulator } from "../imds-emulator.js";
import { instanceEnv, instancePaths } from "./instance-env.js";
import type { ObservedInstance } from "./moto-ec2.js";
import { instanceProcesses, signalInstance, type ProcessInfo } from "./processes.js";

export interface BootSpec {
  observed: ObservedInstance;
  userData: string;
  /** Instance profile role for IMDS credentials; null: none. */
  roleName: string | null;
  address: string;
  dir: string;
  region: string;
  awsEndpoint: string;
  modelServerCommand: string;
  marker: string;
  extraEnv?: Record<string, string>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `[local-cloud]` line in the instance's boot.log, between what its processes print. */
function noteIn(logFile: string, line: string): void {
  appendFileSync(logFile, `[local-cloud ${new Date().toISOString()}] ${line}\n`);
}

/** A Nitro instance's DMI as the kernel shows it: what synkti's first detection layer reads. */
function writeFakeDmi(sysfsRoot: string, instanceId: string): void {
  const dmi = path.join(sysfsRoot, "devices", "virtual", "dmi", "id");
  mkdirSync(dmi, { recursive: true });
  writeFileSync(path.join(dmi, "sys_vendor"), "Amazon EC2\n");
  writeFileSync(path.join(dmi, "bios_vendor"), "Amazon EC2\n");
  writeFileSync(path.join(dmi, "board_asset_tag"), `${instanceId}\n`);
}

export class LocalInstance {
  /**
   * How the user-data shell ended: set when it exits by itself (the instance lives on, idle), or
   * when `end()` has finished: every process gone and the emulator closed. Whoever sees it set
   * during an end sees an instance that is gone entirely.
   */
  exit: Exit | undefined;
  private ending: Promise<void> | undefined;
  private finished = false;
  /** Aborted by an `end(reason, 0)` during a graceful end: the rest of the grace is skipped. */
  private readonly hurry = new AbortController();

  private constructor(
    readonly instanceId: string,
    readonly address: string,
    readonly dir: string,
    readonly logFile: string,
    readonly imds: ImdsEmulator,
    private readonly child: ChildProcess,
    private readonly marker: string,
    /** Resolves when the shell has exited. */
    private readonly exited: Promise<Exit>,
  ) {}

  /** Prepares the folder, starts the emulator, and runs the user-data with `bash`. */
  static async boot(spec: BootSpec): Promise<LocalInstance> {
    const { observed } = spec;
    const paths = instancePaths(spec.dir);
    for (const dir of [paths.prefix, paths.models, paths.tmp]) mkdirSync(dir, { recursive: true });
    writeFakeDmi(paths.sysfs, observed.instanceId);
    writeFileSync(paths.userData, spec.userData, { mode: 0o700 });
    const imds = await ImdsEmulator.start({
      instanceId: observed.instanceId,
      instanceType: observed.instanceType,
      region: spec.region,
      availabilityZone: observed.availabilityZone,
      privateIp: spec.address,
      accountId: observed.accountId,
      imageId: observed.imageId,
      lifecycle: observed.lifecycle,
      tags: observed.metadataTags ? observed.tags : null,
      iamRole: spec.roleName,
      // What a worker reads to launch its replacement with the very same request.
      userData: spec.userData,
    });
    const env = instanceEnv({
      base: process.env,
      dir: spec.dir,
      awsEndpoint: spec.awsEndpoint,
      metadataEndpoint: imds.url,
      marker: spec.marker,
      modelServerCommand: spec.modelServerCommand,
      ...(spec.extraEnv ? { extra: spec.extraEnv } : {}),
    });
    const note = (line: string) => noteIn(paths.log, line);
    note(`booting ${observed.instanceId} (${observed.instanceType}, ${observed.availabilityZone}) at ${spec.address}; IMDS ${imds.url}`);
    // The log is a file, not a pipe: children inherit it, nothing needs draining, and it survives us.
    const fd = openSync(paths.log, "a");
    let child: ChildProcess;
    try {
      child = spawn("bash", [paths.userData], { cwd: spec.dir, env, detached: true, stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<Exit>((resolve) => {
      child.once("error", (error) => {
        note(`could not start bash: ${error.message}`);
        resolve({ code: null, signal: null });
      });
      child.once("exit", (code, signal) => {
        note(`user-data process ${child.pid} exited (${signal ? `signal ${signal}` : `code ${code}`})`);
        resolve({ code, signal });
      });
    });
    const instance = new LocalInstance(observed.instanceId, spec.address, spec.dir, paths.log, imds, child, spec.marker, exited);
    void exited.then((exit) => {
      if (!instance.ended) instance.exit = exit; // during an end, end() records it once all is gone
    });
    return instance;
  }

  /** The user-data shell's pid (it runs the worker as its child): the group id of all the instance's processes. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True from the moment its end begins (no more faults to inject); `state` tells the two apart. */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** EC2's names: "running" (even after user-data exited), "shutting-down" during the grace, "ended" once all is gone. */
  get state(): "running" | "shutting-down" | "ended" {
    return !this.ending ? "running" : this.finished ? "ended" : "shutting-down";
  }

  /** Every live process of this instance (shell or worker, model server, `aws` calls ...). */
  processes(): ProcessInfo[] {
    return instanceProcesses(this.child.pid, this.marker);
  }

  /** What user-data and its processes have printed so far. */
  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /**
   * Ends the instance as EC2 does: when `graceMs` > 0, SIGTERM to every process it has (the OS
   * shutting down: a worker drains and stops its model server) and up to `graceMs` for them to
   * exit; then SIGKILL to whatever is left; then the emulator stops; only then is `exit` recorded
   * and the promise resolved. Each step is noted in boot.log. Idempotent; a call with grace 0
   * during a graceful end cuts the grace short (an abrupt kill during a shutdown).
   */
  end(reason: string, graceMs = 0): Promise<void> {
    if (this.ending) {
      if (graceMs <= 0) this.hurry.abort();
      return this.ending;
    }
    this.ending = (async () => {
      this.note(`ending: ${reason}`);
      if (graceMs > 0) await this.terminate(graceMs);
      await signalInstance(this.child.pid, this.marker, "SIGKILL");
      const exit = await Promise.race([this.exited, new Promise<undefined>((r) => setTimeout(r, 5000))]);
      await this.imds.close();
      if (exit) this.exit = exit;
      else void this.exited.then((late) => (this.exit = late)); // a shell stuck in the kernel: recorded when it goes
      this.finished = true;
    })();
    return this.ending;
  }

  /** SIGTERM, then waits until every process has exited, the grace is over, or a kill hurries it. */
  private async terminate(graceMs: number): Promise<void> {
    // Noted before it is sent, so the log shows it ahead of what the processes print in response.
    this.note(`SIGTERM to every process (an OS shutdown); SIGKILL to what is left in ${graceMs} ms`);
    const started = Date.now();
    await signalInstance(this.child.pid, this.marker, "SIGTERM");
    let left = this.processes();
    while (left.length > 0 && Date.now() - started < graceMs && !this.hurry.signal.aborted) {
      await new Promise((r) => setTimeout(r, 50));
      left = this.processes();
    }
    const elapsed = Date.now() - started;
    if (left.length === 0) this.note(`every process exited ${elapsed} ms after SIGTERM`);
    else this.note(`${this.hurry.signal.aborted ? "killed during the shutdown" : `grace of ${graceMs} ms over`}; SIGKILL to ${left.map((p) => `${p.pid} (${p.command})`).join(", ")}`);
  }

  private note(line: string): void {
    noteIn(this.logFile, line);
  }
}
