import type { RepairSection } from "../../cluster/status-document.js";
import { readdir, readFile } from "node:fs/promises";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { FailoverPorts } from "../../failover/ports.js";
import { FailoverRunner } from "../../failover/runner.js";
import { StateFileSchema } from "../../failover/state-file.js";
import type { Doomed, FailoverSettings } from "../../failover/types.js";
import type { RepairDoomed, RepairOutcome } from "../../repair/index.js";
import type { AgentFailover } from "../failover/agent-failover.js";
import { NO_HOOKS } from "../failover/ports.js";
import { fileStateStore } from "../failover/state-store.js";
import type { RepairStore } from "./repair-store.js";
import { messageOf } from "../../core/errors.js";

/** A repair this member claimed: `name` is the claim's `<slot>-<cause>`. */
export interface RepairClaim {
  slot: number;
  cause: string;
  name: string;
  doomed: RepairDoomed;
}

/** One claimed repair as /status shows it: the status document's own shape. */
export type RepairLaunchStatus = RepairSection["claims"][number];

/** A slot never filled has no pool to avoid (SELECT never picks the doomed one's pool). */
const NO_ZONE = "-";
/** A replacement in one of these is not going to serve: the repair failed. */
const ENDED_BEFORE_SERVING = new Set(["failed", "retiring", "shutting-down", "terminated", "stopping", "stopped"]);
/** Ended repairs stay on /status this long. */
const KEEP_ENDED_MS = 60 * 60_000;

/** See the class comment: the dead instance's id on a first attempt, else the claim's name. */
const spawnDoomedId = (claim: RepairClaim) => (claim.doomed.instanceId !== undefined && claim.cause === claim.doomed.instanceId ? claim.doomed.instanceId : claim.doomed.launchId);

const fileOf = (name: string) => `repair-${name}.json`;
const FILE = /^repair-(\d{1,4})-(.{1,140})\.json$/;

interface Launch {
  claim: Omit<RepairClaim, "doomed">;
  runner: FailoverRunner;
  ended?: { at: number; status: RepairLaunchStatus["phase"]; detail: string };
  /** A replacement seen dead or failed before it served (the runner keeps no such state). */
  lost?: string;
}

/**
 * A claimed repair's launch, through the failover's spawn path: a FailoverRunner whose doomed is
 * the dead member (or, for a slot never filled, the claim itself), whose drain, model-server stop
 * and self-termination are no-ops, with its own state file `repair-<slot>-<cause>.json` next to the
 * failover's, so an agent restart resumes it (searching for its replacement before any launch)
 * instead of launching twice. The runner's doomed id (the replacement's SynktiReplaces and
 * ClientToken) is the dead instance's id on a first attempt, as for a failover: the dead one's
 * replacement is found by the same tag whoever launched it (a failover that began before the death
 * included), and operators read an instance id there. A slot never filled, or a next attempt
 * (`<cause>.2`), uses the claim's `<slot>-<cause>`, so it is a new request on AWS while a retried
 * launch of the same attempt is the same one. It runs as a rebalance: no
 * notice time, SELECT, SPAWN (10 min) and HEALTH (`healthBudgetMs`, NEVER_SERVED_MS); served when
 * HEALTH is done, failed when the replacement ended before serving or did not serve in time. Each
 * ended launch leaves its outcome record (checkpoints/repair/), which the pause rule reads.
 */
export class RepairLaunches {
  private readonly launches = new Map<string, Launch>();

  constructor(
    private readonly deps: {
      failover: Pick<AgentFailover, "portsFor" | "settingsFor">;
      store: Pick<RepairStore, "writeOutcome">;
      clock: Clock;
      log: Logger;
      /** This worker's type: a slot never filled is refilled with it first. */
      instanceType: string;
      /**
       * Asked right before each RunInstances (after the stop marker): "refuse" ends the launch
       * (the desired size no longer wants the slot: `synkti down`, a lower `--workers`).
       */
      beforeLaunch?(slot: number, signal: AbortSignal): Promise<{ refuse: string } | undefined>;
    },
    private readonly options: { stateDir: string; healthBudgetMs: number },
  ) {}

  /** Resumes every repair a state file holds (an agent restart): none is launched twice. */
  async resume(): Promise<void> {
    const files = await readdir(this.options.stateDir).catch(() => [] as string[]);
    for (const file of files) {
      const match = FILE.exec(file);
      if (!match) continue;
      const parsed = StateFileSchema.safeParse(await readFile(`${this.options.stateDir}/${file}`, "utf8").then(JSON.parse, () => undefined).catch(() => undefined));
      if (!parsed.success || parsed.data.state.status === "idle") continue;
      const name = `${match[1]}-${match[2]}`;
      await this.begin({ slot: Number(match[1]), cause: match[2]!, name }, parsed.data.state.settings);
    }
  }

  /** Whether this member already runs (or ran) the repair of this claim. */
  has(name: string): boolean {
    return this.launches.has(name);
  }

  /** Whether a repair of this slot is still running here: its own launch fills the slot, none other may. */
  runningIn(slot: number): boolean {
    return [...this.launches.values()].some((l) => !l.ended && l.claim.slot === slot);
  }

  /**
   * Reads what the launch needs (the replacement's request, through the failover) before anything is
   * claimed, so a read that fails leaves no claim holding the slot for nothing; the returned start
   * begins the launch (once per claim).
   */
  async prepare(claim: RepairClaim, signal?: AbortSignal): Promise<() => Promise<void>> {
    const doomed: Doomed = {
      instanceId: spawnDoomedId(claim),
      instanceType: claim.doomed.instanceType ?? this.deps.instanceType,
      zone: claim.doomed.zone ?? NO_ZONE,
      slot: String(claim.slot),
    };
    const settings = await this.deps.failover.settingsFor(doomed, { healthBudgetMs: this.options.healthBudgetMs }, signal);
    return () => this.begin(claim, settings);
  }

  /** Starts the claimed repair's launch (once per claim). */
  async launch(claim: RepairClaim, signal?: AbortSignal): Promise<void> {
    if (this.launches.has(claim.name)) return;
    await (await this.prepare(claim, signal))();
  }

  status(): RepairLaunchStatus[] {
    const now = this.deps.clock.now();
    for (const [name, launch] of this.launches) if (launch.ended && now - launch.ended.at > KEEP_ENDED_MS) this.launches.delete(name);
    return [...this.launches.values()].map((launch) => ({
      name: launch.claim.name,
      slot: launch.claim.slot,
      cause: launch.claim.cause,
      phase: launch.ended?.status ?? "running",
      replacement: launch.runner.timeline().replacement,
      detail: launch.ended?.detail ?? null,
    }));
  }

  close(): void {
    for (const launch of this.launches.values()) launch.runner.close();
  }

  private async begin(claim: Omit<RepairClaim, "doomed">, settings: FailoverSettings): Promise<void> {
    if (this.launches.has(claim.name)) return;
    const log = this.deps.log.child({ repair: claim.name });
    const { beforeLaunch } = this.deps;
    const base = this.deps.failover.portsFor({ doomedId: settings.doomed.instanceId, hooks: NO_HOOKS, ...(beforeLaunch ? { beforeLaunch: (signal: AbortSignal) => beforeLaunch(claim.slot, signal) } : {}) });
    const launch = { claim } as Launch;
    const ports: FailoverPorts = {
      ...base,
      // The dead member's capacity is free again: no early-replacement hold (that is a rebalance's).
      // Not a no-op: it drops `opts.early`, which the runner passes because a repair runs as a rebalance.
      observePools: (signal) => base.observePools(signal),
      replacementStatus: async (instanceId, signal) => {
        const status = await base.replacementStatus(instanceId, signal);
        if (status.state !== undefined && ENDED_BEFORE_SERVING.has(status.state) && !launch.ended) {
          launch.lost = `the replacement ${instanceId} is ${status.state} before it served`;
          queueMicrotask(() => this.settle(launch));
        }
        return status;
      },
    };
    launch.runner = new FailoverRunner({ clock: this.deps.clock, log, ports, store: fileStateStore(this.options.stateDir, fileOf(claim.name)), onTimeline: () => this.settle(launch) }, settings);
    this.launches.set(claim.name, launch);
    await launch.runner.start(); // a state file of this claim: resumed, never launched again
    // The same id every time: a resumed repair's notice is the one it already had (de-duplicated).
    await launch.runner.notice({ kind: "rebalance-recommendation", id: `repair-${claim.name}` });
    this.settle(launch);
  }

  /** Once the runner is over (or its replacement lost), the outcome record; then the runner stops. */
  private settle(launch: Launch): void {
    if (launch.ended) return;
    const state = launch.runner.current;
    const timeline = launch.runner.timeline();
    const replacement = timeline.replacement;
    let phase: RepairLaunchStatus["phase"] | undefined;
    let detail = "";
    if (state.status === "retired" || timeline.phases.health.state === "done") {
      phase = "served";
      detail = timeline.phases.health.detail ?? "served";
    } else if (launch.lost) {
      phase = "failed";
      detail = launch.lost;
    } else if (state.status === "abandoned") {
      phase = replacement ? "failed" : "no-launch";
      const unhealthy = state.failures.some((f) => f.reason === "unhealthy");
      detail = unhealthy
        ? `the replacement ${replacement} did not serve within ${Math.round(this.options.healthBudgetMs / 60_000)} min of its launch: terminated`
        : ([timeline.phases.spawn.detail, timeline.phases.health.detail].find((d) => d) ?? "no replacement");
    }
    if (!phase) return;
    launch.ended = { at: this.deps.clock.now(), status: phase, detail };
    launch.runner.close();
    const { claim } = launch;
    if (phase === "no-launch" || !replacement) {
      // Nothing was launched (no capacity, refused): nothing billed, no outcome; the claim goes stale.
      this.deps.log.warn({ repair: claim.name, detail }, "repair launched nothing; the slot's claim goes stale and the next attempt tries again");
      return;
    }
    const outcome: RepairOutcome = { slot: claim.slot, cause: claim.cause, replacement, outcome: phase === "served" ? "served" : "failed", at: new Date(this.deps.clock.now()).toISOString(), reason: detail.slice(0, 500) };
    this.deps.log[phase === "served" ? "info" : "warn"]({ repair: claim.name, outcome }, phase === "served" ? "repair: the replacement serves" : "repair: the replacement failed before serving");
    void this.deps.store.writeOutcome(outcome).catch((error: unknown) => this.deps.log.warn({ repair: claim.name, error: messageOf(error) }, "the repair's outcome record could not be written; a later claimant of the slot writes it"));
  }
}
