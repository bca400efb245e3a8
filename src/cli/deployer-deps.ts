import { createAwsClients, resolveRegion } from "../aws/clients.js";
import { systemClock } from "../core/clock.js";
import { versionInfo } from "../core/version.js";
import { runDeployerPreflight, type DeployerPreflightOptions } from "../preflight/deployer/index.js";

/** The one place that builds a deployer's collaborators from CLI options. */
export function deployerDeps(options: { region?: string }) {
  const region = resolveRegion(options.region);
  return { clients: createAwsClients({ region, role: "deployer" }), clock: systemClock, region };
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

export async function runDeployerPreflightForCli(options: {
  project: string;
  region?: string;
  model?: string;
  instanceType?: string;
  workers?: number;
  ami?: string;
  deep?: boolean;
}) {
  const deps = deployerDeps(options);
  const preflightOptions: DeployerPreflightOptions = {
    project: options.project,
    region: deps.region,
    model: options.model,
    instanceType: options.instanceType,
    workers: options.workers,
    ami: options.ami,
    deep: options.deep,
    localBinary: await selfBinary(),
  };
  const report = await runDeployerPreflight(deps, preflightOptions);
  const heading = `preflight ${options.project}${deps.region ? ` (${deps.region})` : ""}`;
  return { report, heading };
}
