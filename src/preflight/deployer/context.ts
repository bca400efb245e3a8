import type { AwsClients } from "../../aws/clients.js";
import type { CallerIdentity } from "../../aws/identity.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { ProjectNames } from "../../infra/names.js";

export const DEFAULT_INSTANCE_TYPE = "g5.xlarge";

/** What a deployer-side requirement can see: clients, names and the operator's own flags. */
export interface DeployerContext {
  clients: AwsClients;
  names: ProjectNames;
  region: string | undefined;
  model: string | undefined;
  /** The first of `instanceTypes`: what the launch starts its workers as. */
  instanceType: string;
  /** The launch's types in its order of preference (`--instance-types`; one: `--instance-type`). */
  instanceTypes: string[];
  /** `--on-demand-fallback`: a replacement may be on-demand as the last resort. */
  onDemandFallback: boolean;
  workers: number;
  ami: string | undefined;
  localBinary: { path: string; version: string } | undefined;
  clock: Clock;
  log: Logger;
  /** Deep binary check: download and hash bin/synkti instead of trusting its recorded metadata. */
  deep: boolean;
  /**
   * Shares one observation between requirements (e.g. the bucket's existence and its hardening):
   * the first caller starts it, the others await the same promise. It runs under the preflight's
   * own signal, not the first caller's: one requirement's deadline must not fail the other's.
   */
  once<T>(key: string, observe: (signal: AbortSignal | undefined) => Promise<T>): Promise<T>;
  /** Shared observation: several requirements need the caller's identity; ask STS once. */
  identity(): Promise<CallerIdentity>;
}

/** A fix carries the operator's own project name, region and flags, so it runs as printed. */
export function synktiCommand(ctx: DeployerContext, subcommand: string, extra: string[] = []): string {
  const parts = ["synkti", subcommand, "--project-name", ctx.names.project];
  if (ctx.region) parts.push("--region", ctx.region);
  return [...parts, ...extra].join(" ");
}

/** The preflight itself with the same flags plus `extra` (e.g. a choice only the operator can make). */
export function preflightCommand(ctx: DeployerContext, extra: string[] = []): string {
  const flags: string[] = [];
  if (ctx.model) flags.push("--model", ctx.model);
  // A fix that names the type itself (`--instance-type <instance-type>`) replaces the operator's list.
  const namesType = extra.includes("--instance-type") || extra.includes("--instance-types");
  flags.push(...launchShapeFlags(namesType ? { instanceTypes: [], onDemandFallback: ctx.onDemandFallback } : ctx));
  return synktiCommand(ctx, "preflight", [...flags, ...extra]);
}

/** The operator's instance flags as typed again in a fix (`--instance-types a,b`, `--on-demand-fallback`). */
export function launchShapeFlags(ctx: Pick<DeployerContext, "instanceTypes" | "onDemandFallback">): string[] {
  const flags: string[] = [];
  if (ctx.instanceTypes.length > 1) flags.push("--instance-types", ctx.instanceTypes.join(","));
  else if (ctx.instanceTypes[0] && ctx.instanceTypes[0] !== DEFAULT_INSTANCE_TYPE) flags.push("--instance-type", ctx.instanceTypes[0]);
  if (ctx.onDemandFallback) flags.push("--on-demand-fallback");
  return flags;
}
