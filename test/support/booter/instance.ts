/**
 * One booted instance: its folder, its IMDS emulator, and its processes (the user-data shell and
 * everything it starts), which live in their own process group. `end()` kills all of them and
 * stops the emulator, as AWS ends an instance; the folder stays for post-mortems.
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

/** A Nitro instance's DMI as the kernel shows it: what synkti's first detection layer reads. */
function writeFakeDmi(sysfsRoot: string, instanceId: string): void {
  const dmi = path.join(sysfsRoot, "devices", "virtual", "dmi", "id");
  mkdirSync(dmi, { recursive: true });
  writeFileSync(path.join(dmi, "sys_vendor"), "Amazon EC2\n");
  writeFileSync(path.join(dmi, "bios_vendor"), "Amazon EC2\n");
  writeFileSync(path.join(dmi, "board_asset_tag"), `${instanceId}\n`);
}

export class LocalInstance {
  /** Set once the user-data shell has exited by itself or been killed. */
  exit: Exit | undefined;
  private ending: Promise<void> | undefined;

  private constructor(
    readonly instanceId: string,
    readonly address: string,
    readonly dir: string,
    readonly logFile: string,
    readonly imds: ImdsEmulator,
    private readonly child: ChildProcess,
    private readonly marker: string,
    /** Resolves when the shell has exited. */
    readonly exited: Promise<Exit>,
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
    const note = (line: string) => appendFileSync(paths.log, `[local-cloud ${new Date().toISOString()}] ${line}\n`);
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
    void exited.then((exit) => (instance.exit = exit));
    return instance;
  }

  /** The user-data shell's pid (it runs the worker as its child): the group id of all the instance's processes. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get ended(): boolean {
    return this.ending !== undefined;
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
   * Ends the instance: SIGTERM first when `graceMs` > 0 (an OS shutdown), then SIGKILL to every
   * process it has, then the emulator stops. Idempotent.
   */
  end(reason: string, graceMs = 0): Promise<void> {
    this.ending ??= (async () => {
      appendFileSync(this.logFile, `[local-cloud ${new Date().toISOString()}] ending: ${reason}\n`);
      if (graceMs > 0) {
        await signalInstance(this.child.pid, this.marker, "SIGTERM");
        const deadline = Date.now() + graceMs;
        while (Date.now() < deadline && this.processes().length > 0) await new Promise((r) => setTimeout(r, 50));
      }
      await signalInstance(this.child.pid, this.marker, "SIGKILL");
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
      await this.imds.close();
    })();
    return this.ending;
  }
}
