import type { AwsClients } from "../aws/clients.js";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/log.js";

/** Collaborators of the infra capability, built once by the CLI (or a test). */
export interface InfraDeps {
  clients: AwsClients;
  log: Logger;
  clock: Clock;
}

/** Observations need only the clients, so preflight can call them with its own context. */
export type ObserveDeps = Pick<InfraDeps, "clients">;

/** The permanent resources, in the order they are created (destroyed in reverse-ish order). */
export const RESOURCE_KINDS = [
  "bucket",
  "role",
  "role-policy",
  "instance-profile",
  "load-balancer-security-group",
  "security-group",
  "target-group",
  "load-balancer",
  "listener",
  "api-key",
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Runs AWS work and gives any failure its context and a remedy (shared with every layer). */
export { doing } from "../aws/errors.js";
