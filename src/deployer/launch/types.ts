import type { RootVolume } from "../../infra/worker-instance.js";
import type { WorkerStatus } from "../fleet/status.js";
import type { LaunchProposal } from "./proposal.js";
import type { Desired } from "../../cluster/desired.js";
import type { DesiredDecision } from "../desired/rule.js";
import type { DesiredRead } from "../desired/store.js";

/** Everything a launch needs, resolved and checked before the first RunInstances. */
export interface LaunchTarget {
  project: string;
  model: string;
  region: string;
  instanceType: string;
  /** The launch's types in order (the first is `instanceType`): the workers' failover tries them so. */
  instanceTypes?: string[];
  /** A replacement may be on-demand as the last resort (`--on-demand-fallback`). */
  onDemandFallback?: boolean;
  imageId: string;
  securityGroupId: string;
  instanceProfile: string;
  /** Default subnet of each zone that offers the instance type. */
  subnets: Record<string, string>;
  userData: string;
  binarySha256: string;
  /** The image's root volume grown to hold the weights; absent when the image does not say. */
  rootVolume?: RootVolume;
}

export interface LaunchInput {
  target: LaunchTarget;
  /** Desired number of pending-or-running workers. */
  workers: number;
  /**
   * The desired size as read (cluster/desired.json) and decided (src/deployer/desired/rule.ts); the
   * launch writes it when `decision.write`. Absent: desired.json is neither read nor written.
   */
  intent?: { decision: DesiredDecision; read: DesiredRead; /** The command to run again when another deployer wrote meanwhile. */ rerun: string };
  /** Tag value of this launch; generated when absent. */
  launchId?: string;
  /** First Ctrl-C: launch nothing more, undo this launch, exit 130. */
  signal?: AbortSignal;
  /** Second Ctrl-C: also abandon RunInstances calls in flight (cleanup then sweeps by tag). */
  forceSignal?: AbortSignal;
  /** RunInstances calls in flight at once (each launches one instance). Default 4. */
  concurrency?: number;
  /** How long instances may take to reach `running`. Default 10 minutes. */
  runningDeadlineMs?: number;
  cleanupDeadlineMs?: number;
  /** Interval of the running/terminated polls (tests shorten it). */
  pollIntervalMs?: number;
}

/** An availability zone that had no capacity, and where the worker went instead. */
export interface Fallback {
  from: string;
  /** null: no zone was left. */
  to: string | null;
  error: string;
}

export interface LaunchResult {
  project: string;
  /** null when nothing was launched. */
  launchId: string | null;
  desired: number;
  /** cluster/desired.json as this launch left it; null when there is none (an older cluster, no --workers). */
  desiredFile: Desired | null;
  /** Where `desired` came from: --workers, the desired.json kept, or the default 1; null without intent. */
  desiredSource: DesiredDecision["source"] | null;
  /** Pending or running workers before this launch. */
  existing: number;
  /** `slot`: its SynktiSlot. */
  launched: Array<{ instanceId: string; availabilityZone: string | undefined; slot: number | null }>;
  /** Empty slots this launch left alone: a worker's repair (or another launch) had claimed them first. */
  heldSlots: Array<{ slot: number; key: string }>;
  fallbacks: Fallback[];
  imageId: string;
  instanceType: string;
  /** What was planned (and, on a terminal, approved): count, type, zones, spot price, estimate. */
  plan: LaunchProposal;
  message: string;
  workers: WorkerStatus[];
}

