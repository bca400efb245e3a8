import type { DmiObservation } from "./dmi.js";
import type { IdentityDocument } from "./identity.js";
import type { ImdsFailure } from "./imds-error.js";

export type Role = "deployer" | "worker";

/** Layer 2: did the metadata service issue an IMDSv2 token? */
export interface ImdsObservation {
  status: "ok" | "disabled" | ImdsFailure;
  endpoint: string;
  /** How long the token request was allowed to take. */
  deadlineMs?: number;
  detail: string;
  /** Set when this observation is the one remembered earlier in this boot (verdict-cache.ts). */
  remembered?: { at: string; file: string };
}

/** Layer 3: the identity document (its fields are hoisted into the evidence when valid). */
export interface IdentityObservation {
  status: "valid" | "invalid" | "missing" | "error" | "not-fetched";
  detail: string;
  document?: IdentityDocument;
}

/** Membership: the instance's own tags, read through IMDS (instance metadata tags). */
export interface TagsObservation {
  /** disabled: IMDS answers 404 under tags/ (instance metadata tags off for this instance). */
  status: "ok" | "disabled" | "error" | "not-fetched";
  detail: string;
  /** Only synkti's tags; absent keys are absent here. */
  values?: { SynktiCluster?: string; SynktiRole?: string };
}

export interface Observations {
  dmi: DmiObservation;
  imds: ImdsObservation;
  identity: IdentityObservation;
  tags: TagsObservation;
  /** meta-data/local-ipv4, read only when the identity document lacks privateIp. */
  localIpv4?: string;
}

export interface Evidence {
  instanceId?: string;
  region?: string;
  availabilityZone?: string;
  instanceType?: string;
  privateIp?: string;
  accountId?: string;
  /** The project this instance works for (worker verdicts only). */
  project?: string;
  dmi: DmiObservation;
  imds: ImdsObservation;
  identity: Omit<IdentityObservation, "document">;
  tags: TagsObservation;
}

/** The result of `synkti context`: a role, why, and what to do when the evidence disagrees. */
export interface ContextReport {
  role: Role;
  reason: string;
  /** A command worth running (e.g. enable metadata tags) when the verdict may not be what is wanted. */
  fix?: string;
  /**
   * Layers disagree (DMI says EC2, IMDS cannot be read): the role stays deployer, nothing is guessed,
   * and the CLI exits 3 (could not observe).
   */
  contradiction?: { message: string; fix: string };
  evidence: Evidence;
}
