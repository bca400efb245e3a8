/**
 * The booter: the part of the local cloud that plays EC2's machines. moto accepts RunInstances and
 * says "running" at once, but nothing boots; the booter turns each such instance into local
 * processes running the very user-data it was launched with, so the real built binary boots as a
 * worker exactly as it would on EC2.
 *
 * Behaviour spec:
 * 1. Watch: every `pollIntervalMs` (default 500) it lists moto's instances (DescribeInstances,
 *    following NextToken; only those tagged SynktiCluster=<project> when `project` is given).
 *    `sync()` runs one poll now; polls never overlap. A failed poll is reported and retried.
 * 2. Boot, for each instance first seen `running` (see reconcile.ts):
 *    - a folder `<rootDir>/<instance-id>/` holding `user-data` (read back from moto:
 *      DescribeInstanceAttribute userData, base64-decoded), `boot.log` (everything user-data and
 *      its processes print, plus `[local-cloud]` lines: the local cloud-init-output.log), the
 *      install prefix, the models folder, a TMPDIR and a fake sysfs whose DMI names the instance;
 *    - a private address 127.a.b.N (AddressPool: a random /24 per booter, .2 upward, only where
 *      the worker's ports 8000/8080 are free) reported as the instance's local-ipv4;
 *    - an IMDS emulator (imds-emulator.ts) with the instance's id, type, zone, region, account,
 *      AMI, lifecycle, tags (null when InstanceMetadataTags is not enabled) and its instance
 *      profile's role with dummy credentials (no profile: no credentials);
 *    - `bash <user-data>` in its own process group, with the environment of instance-env.ts: only
 *      the contract's variables redirected (AWS_ENDPOINT_URL = `awsEndpoint`, default moto, or a
 *      fault proxy; AWS_EC2_METADATA_SERVICE_ENDPOINT = its emulator; SYNKTI_INSTALL_PREFIX and
 *      SYNKTI_MODELS_DIR in its folder) plus SYNKTI_MODEL_SERVER_COMMAND (the vLLM stand-in by
 *      default) and `env` extras. No AWS keys: credentials come from IMDS, as on EC2.
 *    If user-data exits (a refused checksum, a crash), the instance stays "running" in moto with
 *    nothing on it, as on EC2; `exit` records how it ended.
 * 3. Tags: while an instance lives, its emulator's tags follow moto's (CreateTags shows in IMDS on
 *    the next poll).
 * 4. End: when moto says an instance is shutting-down/terminated/stopping/stopped, or it vanished,
 *    the booter shuts it down as EC2 does: SIGTERM to all its processes, up to `shutdownGraceMs`
 *    (default 10 000) for them to exit (a worker drains and stops its model server meanwhile),
 *    SIGKILL to whatever is left, then its emulator stops; then `exit` is recorded and the "ended"
 *    event emitted, so whoever sees either sees nothing of the instance left (IMDS included).
 *    "All" means its process group, its descendants and any process carrying its marker variable
 *    (processes.ts), so a model server that detached is not left behind. boot.log notes each step
 *    and, when the grace ran out, what had to be SIGKILLed.
 * 5. Faults, per instance: `injectSpotInterruption(id)` makes IMDS answer spot/instance-action and,
 *    like AWS, reclaims the instance when the notice's time comes (`reclaimAfterMs`, default
 *    120 000; null: never): terminated in moto, then shut down as in 4; `injectRebalance(id)` makes
 *    IMDS answer the rebalance recommendation; `kill(id)` ends it at once (SIGKILL, no grace: a
 *    host failure, and it cuts a shutdown in progress short) without notice and terminates it in
 *    moto, so it is gone everywhere. Asking about an instance it never booted, or one that ended,
 *    throws an error naming the live instances.
 * 6. Disposal (`stop()`, `[Symbol.asyncDispose]`): stops polling and timers, ends every instance
 *    at once (no grace), removes `rootDir` if the booter made it (unless `keepFiles` or
 *    SYNKTI_LOCAL_CLOUD_KEEP=1).
 *    If the process exits without disposing, an exit hook SIGKILLs every instance's processes.
 * `start()` refuses to run without the `aws` CLI on PATH (user-data downloads with it).
 * The booter only talks to moto directly (never through the fault proxy) and only on loopback.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MODEL_SERVER_PORT, STATUS_PORT } from "../../../src/infra/ports.js";
import { findOnPath } from "../moto.js";
import { vllmStandinCommandTemplate } from "../vllm-standin.js";
import { AddressPool } from "./addresses.js";
import { LocalInstance } from "./instance.js";
import { MotoEc2, type ObservedInstance } from "./moto-ec2.js";
import { signalInstanceNow } from "./processes.js";
import { reconcile, type Tracked } from "./reconcile.js";

export interface BooterOptions {
  /** moto's URL: the booter reads instances there and terminates them there. */
  motoUrl: string;
  /** AWS_ENDPOINT_URL given to instances; default `motoUrl` (point it at a fault proxy to inject AWS errors). */
  awsEndpoint?: string;
  /** Only boot instances tagged SynktiCluster=<project>; default every instance. */
  project?: string;
  /** Fallback region when an instance's zone does not name one. */
  region?: string;
  pollIntervalMs?: number;
  /** Parent of the per-instance folders; default a fresh temp folder. */
  rootDir?: string;
  keepFiles?: boolean;
  /** First three octets of instance addresses, e.g. "127.0.0"; default a random one. */
  subnet?: string;
  /** SYNKTI_MODEL_SERVER_COMMAND; default the vLLM stand-in. */
  modelServerCommand?: string;
  /** Extra environment for every instance (SYNKTI_STANDIN_STARTUP_DELAY_MS, SYNKTI_LOG_LEVEL ...). */
  env?: Record<string, string>;
  /** SIGTERM-to-SIGKILL grace when an instance is terminated or reclaimed; default 10 000 (tests in a hurry pass less; 0: SIGKILL at once). */
  shutdownGraceMs?: number;
  /** Progress and problems, one line each (local-cloud prints them). */
  onEvent?: (event: BooterEvent) => void;
}

/** The default `shutdownGraceMs`: time for a worker to drain, as an OS shutdown gives services. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** Asked about an instance that is not (or no longer) running here; the message names the live ones. */
export class NoSuchInstanceError extends Error {}

export interface BooterEvent {
  type: "booted" | "ended" | "notice" | "error";
  instanceId?: string;
  message: string;
}

export class Booter implements AsyncDisposable {
  private readonly moto: MotoEc2;
  private readonly tracked = new Map<string, Tracked>();
  private readonly booted = new Map<string, LocalInstance>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<void>>();
  private readonly addresses: AddressPool;
  private readonly nonce = randomBytes(4).toString("hex");
  private readonly stopper = new AbortController();
  private readonly rootDir: string;
  private readonly ownsRoot: boolean;
  private syncing: Promise<void> = Promise.resolve();
  private loop: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly onExit = () => {
    for (const instance of this.booted.values()) signalInstanceNow(instance.pid, this.marker(instance.instanceId));
  };

  private constructor(private readonly options: BooterOptions) {
    this.moto = new MotoEc2(options.motoUrl, options.region);
    this.addresses = new AddressPool(options.subnet, [MODEL_SERVER_PORT, STATUS_PORT]);
    this.ownsRoot = options.rootDir === undefined;
    this.rootDir = options.rootDir ?? mkdtempSync(path.join(tmpdir(), "synkti-local-cloud-"));
  }

  /** Starts watching moto; the first poll has completed when this resolves. */
  static async start(options: BooterOptions): Promise<Booter> {
    // User-data needs the aws CLI (the Deep Learning AMIs ship it); say so once, not in every boot.log.
    if (!findOnPath("aws")) throw new Error("the aws CLI is not on PATH; user-data needs it to download the binary: pip install awscli");
    const booter = new Booter(options);
    process.once("exit", booter.onExit);
    await booter.sync().catch(() => {}); // reported through onEvent; the loop retries
    booter.loop = booter.run();
    return booter;
  }

  get subnet(): string {
    return this.addresses.subnet;
  }

  get root(): string {
    return this.rootDir;
  }

  /** Instances booted so far, ended ones included (their folders and logs stay readable). */
  instances(): LocalInstance[] {
    return [...this.booted.values()];
  }

  /** A booted instance, ended or not (its folder and log stay readable). */
  instance(instanceId: string): LocalInstance {
    return this.live(instanceId, ["running", "shutting-down", "ended"]);
  }

  /** Waits until at least `count` instances have booted (polling moto meanwhile). */
  async waitForInstances(count: number, timeoutMs = 60_000): Promise<LocalInstance[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.booted.size < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.booted.size} of ${count} instances booted within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.instances();
  }

  /** One poll now (serialised with the background loop). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.pollOnce());
    return this.syncing;
  }

  injectSpotInterruption(instanceId: string, options: { reclaimAfterMs?: number | null } = {}): { action: string; time: string } {
    const notice = this.live(instanceId).imds.injectSpotInterruption();
    const reclaimAfterMs = options.reclaimAfterMs === undefined ? 120_000 : options.reclaimAfterMs;
    this.emit({ type: "notice", instanceId, message: `spot interruption notice: ${notice.action} at ${notice.time}` });
    if (reclaimAfterMs !== null) this.later(reclaimAfterMs, () => this.reclaim(instanceId));
    return notice;
  }

  injectRebalance(instanceId: string): { noticeTime: string } {
    const notice = this.live(instanceId).imds.injectRebalance();
    this.emit({ type: "notice", instanceId, message: `rebalance recommendation at ${notice.noticeTime}` });
    return notice;
  }

  /**
   * Ends the instance abruptly (SIGKILL, no grace: a host failure; a shutdown in progress is cut
   * short), without notice, and terminates it in moto.
   */
  async kill(instanceId: string, reason = "killed without notice"): Promise<void> {
    const instance = this.live(instanceId, ["running", "shutting-down"]);
    await this.end(instance, reason, 0);
    await this.moto.terminate(instanceId);
  }

  /** The notice's time has come: terminated in moto and the OS shutdown with its grace, as EC2 reclaims. */
  private async reclaim(instanceId: string): Promise<void> {
    const instance = this.instance(instanceId);
    if (instance.ended) return; // terminated or killed meanwhile
    this.tracked.set(instanceId, "ended"); // a poll that sees moto's "terminated" first must not end it under another reason
    try {
      await this.moto.terminate(instanceId);
    } finally {
      await this.end(instance, "spot instance reclaimed"); // moto refusing (reported) does not save the instance
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopper.abort();
      for (const timer of this.timers) clearTimeout(timer);
      await this.loop;
      await this.syncing.catch(() => {});
      await Promise.all([...this.booted.values()].map((i) => this.end(i, "local cloud stopped", 0)));
      await Promise.all(this.pending); // reclaims and shutdowns, hurried by the ends above
      this.moto.close();
      process.off("exit", this.onExit);
      const keep = this.options.keepFiles || process.env.SYNKTI_LOCAL_CLOUD_KEEP === "1";
      if (this.ownsRoot && !keep) rmSync(this.rootDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs ?? 500));
      if (signal.aborted) break;
      await this.sync().catch(() => {});
    }
  }

  private async pollOnce(): Promise<void> {
    if (this.stopper.signal.aborted) return;
    let observed: ObservedInstance[];
    try {
      observed = await this.moto.instances(this.options.project);
    } catch (error) {
      this.emit({ type: "error", message: `DescribeInstances failed: ${String(error)}` });
      throw error;
    }
    const plan = reconcile(this.tracked, observed);
    for (const instance of plan.alive) {
      const imds = this.booted.get(instance.instanceId)?.imds;
      if (imds && instance.metadataTags) imds.tags = instance.tags;
    }
    // Not awaited: a shutdown's grace must not hold up the next polls (boots, tags); stop() waits for it.
    for (const id of plan.end) this.background(this.end(this.booted.get(id)!, `moto says ${observed.find((i) => i.instanceId === id)?.state ?? "it is gone"}`));
    await Promise.all(plan.boot.map((instance) => this.boot(instance)));
  }

  private async boot(observed: ObservedInstance): Promise<void> {
    const id = observed.instanceId;
    this.tracked.set(id, "booted"); // before any await: a concurrent poll must not boot it twice
    try {
      const [userData, roleName, address] = await Promise.all([this.moto.userData(id), this.moto.roleName(observed.instanceProfileArn), this.addresses.allocate()]);
      const zoneRegion = /^([a-z]{2}-[a-z]+-\d+)[a-z]$/.exec(observed.availabilityZone)?.[1];
      const instance = await LocalInstance.boot({
        observed,
        userData,
        roleName,
        address,
        dir: path.join(this.rootDir, id),
        region: zoneRegion ?? this.options.region ?? "us-east-1",
        awsEndpoint: this.options.awsEndpoint ?? this.options.motoUrl,
        modelServerCommand: this.options.modelServerCommand ?? vllmStandinCommandTemplate(),
        marker: this.marker(id),
        ...(this.options.env ? { extraEnv: this.options.env } : {}),
      });
      this.booted.set(id, instance);
      this.emit({ type: "booted", instanceId: id, message: `booted ${id} at ${address} (IMDS ${instance.imds.url}, log ${instance.logFile})` });
    } catch (error) {
      this.tracked.delete(id); // retried on the next poll
      this.emit({ type: "error", instanceId: id, message: `could not boot ${id}: ${String(error)}` });
    }
  }

  private async end(instance: LocalInstance, reason: string, graceMs = this.options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> {
    this.tracked.set(instance.instanceId, "ended");
    if (instance.ended) return instance.end(reason, graceMs); // a grace of 0 hurries the end in progress
    await instance.end(reason, graceMs);
    this.addresses.release(instance.address);
    this.emit({ type: "ended", instanceId: instance.instanceId, message: `ended ${instance.instanceId} (${reason})` });
  }

  /** The instance when its state is one of `allowed`; else a NoSuchInstanceError that names the live ones. */
  private live(instanceId: string, allowed: Array<LocalInstance["state"]> = ["running"]): LocalInstance {
    const instance = this.booted.get(instanceId);
    if (instance && allowed.includes(instance.state)) return instance;
    const running = this.instances().filter((i) => i.state === "running");
    const others = running.length > 0 ? `running instances: ${running.map((i) => `${i.instanceId} (${i.address})`).join(", ")}` : "no instance is running";
    const what = !instance ? "is not an instance of this local cloud" : instance.state === "ended" ? "has ended" : "is shutting down";
    throw new NoSuchInstanceError(`${instanceId} ${what}; ${others}`);
  }

  private later(ms: number, work: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.background(work());
    }, ms);
    this.timers.add(timer);
  }

  /** Work nobody awaits (a shutdown, a reclaim): its failure is reported, and stop() waits for it. */
  private background(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.emit({ type: "error", message: String(error) })).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private marker(instanceId: string): string {
    return `${instanceId}@${this.nonce}`;
  }

  private emit(event: BooterEvent): void {
    this.options.onEvent?.(event);
  }
}
