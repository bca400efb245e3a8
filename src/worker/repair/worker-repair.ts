import type { AwsClients } from "../../aws/clients.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import type { Ec2Peers, PeerInstance } from "../../aws/ec2-peers.js";
import { createConditionalObjects } from "../../aws/s3-conditional.js";
import { createObjectReader } from "../../aws/s3-objects.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { ProjectNames } from "../../infra/names.js";
import { claimBody, claimName, NEVER_SERVED_MS, type RetireSelfReason } from "../../repair/index.js";
import type { AgentFailover } from "../failover/agent-failover.js";
import { DesiredReader, DESIRED_POLL_MS, slotNotWanted } from "./desired-reader.js";
import { RepairLaunches } from "./repair-launches.js";
import { RepairStore } from "./repair-store.js";
import { Repairer } from "./repairer.js";
import type { RepairSection } from "../../cluster/status-document.js";
import { Watch } from "./watch.js";
import { messageOf } from "../../core/errors.js";

export interface WorkerRepairDeps {
  clients: AwsClients;
  ec2: Pick<Ec2Peers, "describeOne" | "describeIds">;
  failover: Pick<AgentFailover, "portsFor" | "settingsFor">;
  clock: Clock;
  log: Logger;
  names: ProjectNames;
  self: { instanceId: string; instanceType: string };
  /** The SIGTERM drain, then TerminateInstances on itself (dry run honoured): run-worker's. */
  retireSelf(reason: RetireSelfReason): void;
  dryRun: boolean;
  /** A member's endpoint as discovery knows it (gossip may know it before this member's listing). */
  endpointOf?: (instanceId: string) => string | undefined;
}

export interface WorkerRepairOptions {
  /** SYNKTI_STATE_DIR: each claimed repair's state file goes next to the failover's. */
  stateDir: string;
  desiredPollMs?: number;
  /** How long a repair's replacement has to serve (default NEVER_SERVED_MS). */
  healthBudgetMs?: number;
}

/** What the agent wires: discovery's hooks, the failover's claim, /status, the desired-size loop. */
export interface WorkerRepair {
  /** For Discovery: the census on each own listing, the watched members asked every round. */
  discovery: {
    onListing(instances: readonly PeerInstance[], at: number): void;
    watched(): readonly { instanceId: string; endpoint: string }[];
    onRound(asked: readonly { instanceId: string; answered: boolean }[], at: number): void;
  };
  /** The failover's claim of `<slot>-<this id>` before its first launch (AgentFailover's `claim`). */
  claimForFailover(slot: number, signal: AbortSignal): Promise<{ refuse: string } | undefined>;
  /** Resumes the repairs the state files hold (before any listing). */
  start(): Promise<void>;
  /** Reads desired.json every 15 s until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** This member stops claiming (it is leaving). */
  stopClaiming(): void;
  /** /status `repair`. */
  status(): RepairSection;
  close(): void;
}

/**
 * The repair, as the agent runs it (issue 12): the desired-size reader, the repairer (census on each
 * own listing, claims, launches through the failover's spawn path, self-retirement, never-served
 * retirement), and the watch (watched members asked every round, an EC2 check when one does not
 * answer). Everything is built here so run-worker only wires it.
 */
export function workerRepair(deps: WorkerRepairDeps, options: WorkerRepairOptions, signal: AbortSignal): WorkerRepair {
  const { clients, clock, names, self } = deps;
  const log = deps.log;
  const objects = createConditionalObjects(clients);
  const store = new RepairStore({ objects, reader: createObjectReader(clients) }, names);
  const launches = new RepairLaunches(
    // `desired` is built below; a launch asks it only long after (a claim, then SELECT).
    { failover: deps.failover, store, clock, log, instanceType: self.instanceType, beforeLaunch: (slot, abort) => desired.launchRefusal(slot, abort) },
    { stateDir: options.stateDir, healthBudgetMs: options.healthBudgetMs ?? NEVER_SERVED_MS },
  );
  const instances = createEc2Instances(clients);
  const repairer = new Repairer(
    {
      desired: { get current() { return desired.current; }, readOnce: (abort) => desired.readOnce(abort) },
      store,
      launches,
      ec2: deps.ec2,
      clock,
      log,
      retireSelf: deps.retireSelf,
      async terminateOther(instanceId, abort) {
        if (deps.dryRun) {
          log.warn({ instanceId }, "dry run (SYNKTI_WORKER_DRY_RUN): the holder that never served is not terminated");
          return;
        }
        await instances.terminate([instanceId], abort);
      },
    },
    self.instanceId,
    signal,
  );
  const watch = new Watch({ ec2: deps.ec2, clock, log, onCheck: (check) => repairer.onCheck(check), ...(deps.endpointOf ? { endpointOf: deps.endpointOf } : {}) }, self.instanceId);
  // Without a desired size (an older cluster) nothing else changes: no watch, no EC2 check.
  const active = () => desired.current.kind === "known";
  const desired = new DesiredReader(
    {
      objects,
      clock,
      log,
      onChange: (view) => {
        const listing = repairer.lastListing;
        if (view.kind === "known" && listing) watch.onListing(listing.instances);
        void repairer.poke();
      },
    },
    { bucket: names.bucket, key: names.desiredKey, pollMs: options.desiredPollMs ?? DESIRED_POLL_MS },
  );

  return {
    discovery: {
      onListing(listed, at) {
        const listing = repairer.onListing(listed, at);
        if (active()) watch.onListing(listing.instances);
      },
      watched: () => (active() ? watch.watched() : []),
      onRound: (asked, at) => (active() ? watch.onRound(asked, at) : undefined),
    },
    async claimForFailover(slot, abort) {
      const cause = self.instanceId;
      // A worker the desired size no longer wants (retiring as surplus, or `synkti down` begun) is
      // not replaced: its replacement would only retire in turn, after booting on a GPU. The view
      // read last (at most 15 s old) is enough: a notice's launch does not wait on another read.
      const notWanted = slotNotWanted(desired.current, slot);
      if (notWanted) return { refuse: `${notWanted}: no replacement for this worker` };
      try {
        const result = await store.claim(claimBody(slot, cause, 1, self.instanceId, clock.now()), abort);
        if (result.kind !== "taken") return undefined;
        return { refuse: `the claim ${claimName(names, slot, cause)} is held by ${result.claimer ?? "another member"}, which replaces this worker` };
      } catch (error) {
        // A replacement on a notice must not wait on S3: its slot is held by it (SynktiSlot) once launched.
        log.warn({ error: messageOf(error) }, "the failover could not claim its slot; launching anyway");
        return undefined;
      }
    },
    start: () => launches.resume(),
    run: (abort) => desired.run(abort),
    stopClaiming: () => repairer.stopClaiming(),
    status: () => ({ ...repairer.status(), watching: [...watch.targets], checks: watch.calls }),
    close: () => launches.close(),
  };
}
