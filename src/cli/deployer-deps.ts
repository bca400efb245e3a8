import { createAwsClients, resolveRegion } from "../aws/clients.js";
import { systemClock } from "../core/clock.js";
import { SynktiError } from "../core/errors.js";
import { createLogger } from "../core/log.js";
import { versionInfo } from "../core/version.js";
import { runDeployerPreflight, type DeployerPreflightOptions, type Observed } from "../preflight/deployer/index.js";
import type { PreflightReport } from "../preflight/types.js";
import { requirementsFor, type DeployerOperation } from "../preflight/deployer/operations.js";
import { renderReport } from "../preflight/report.js";
import { printResult, type OutputFormat } from "./output.js";

/** The one place that builds a deployer's collaborators from CLI options. */
export function deployerDeps(options: { region?: string; debug?: boolean }) {
  const region = resolveRegion(options.region);
  const log = createLogger(options.debug ? { level: "debug" } : {});
  return { clients: createAwsClients({ region, role: "deployer" }), clock: systemClock, log, region };
}

/** This executable, when it is the built single binary (not a `tsx` development run). */
export async function selfBinary(): Promise<{ path: string; version: string } | undefined> {
  try {
    const sea = await import("node:sea");
    return sea.isSea() ? { path: process.execPath, version: versionInfo().version } : undefined;
  } catch {
    return undefined;
  }
}

export interface PreflightCliOptions {
  project: string;
  region?: string;
  model?: string;
  instanceType?: string;
  instanceTypes?: string[];
  onDemandFallback?: boolean;
  workers?: number;
  ami?: string;
  deep?: boolean;
  operation?: DeployerOperation;
  signal?: AbortSignal;
}

export type DeployerDeps = ReturnType<typeof deployerDeps>;

/**
 * `deps`: the caller's collaborators when it has them (a gated command), so one run builds one
 * credential chain (an SSO or MFA prompt comes once).
 */
export async function runDeployerPreflightForCli(options: PreflightCliOptions, deps: DeployerDeps = deployerDeps(options)) {
  const preflightOptions: DeployerPreflightOptions = {
    project: options.project,
    region: deps.region,
    model: options.model,
    instanceType: options.instanceType,
    ...(options.instanceTypes ? { instanceTypes: options.instanceTypes } : {}),
    ...(options.onDemandFallback ? { onDemandFallback: true } : {}),
    workers: options.workers,
    ami: options.ami,
    deep: options.deep,
    localBinary: await selfBinary(),
  };
  const observed = new Map<string, unknown>();
  const onObserved = (id: string, observation: unknown) => observed.set(id, observation);
  const report = await runDeployerPreflight({ ...deps, onObserved, ...(options.signal ? { signal: options.signal } : {}) }, preflightOptions, requirementsFor(options.operation ?? "launch"));
  const heading = `preflight ${options.project}${deps.region ? ` (${deps.region})` : ""}`;
  return { report, heading, observed: observed as Observed };
}

/**
 * Every operation that changes something runs the preflight for its own needs first and, when not
 * SAFE, prints the report (with the fixes) as its result and refuses: exit 1, or 3 when it could
 * not observe. When SAFE it hands back what the preflight observed, so the operation acts on the
 * very observations the verdict was taken on (the launch: launchObservations).
 */
export async function requireSafe(
  operation: DeployerOperation,
  options: Omit<PreflightCliOptions, "operation"> & { output: OutputFormat; signal?: AbortSignal },
  deps?: DeployerDeps,
): Promise<{ report: PreflightReport; observed: Observed }> {
  const { report, heading, observed } = await runDeployerPreflightForCli({ ...options, operation }, deps);
  options.signal?.throwIfAborted(); // interrupted: the report is moot
  if (report.verdict === "SAFE") return { report, observed };
  printResult(options.output, { verdict: report.verdict, requirements: report.requirements }, () =>
    renderReport(report, heading),
  );
  const kind = report.verdict === "UNSAFE" ? "unsafe" : "unobservable";
  throw new SynktiError(`preflight: ${report.verdict}`, { code: report.verdict.toLowerCase(), kind, silent: true });
}
