import type { AwsClients } from "../../aws/clients.js";
import { dryRunRunInstances } from "../../aws/ec2-discovery.js";
import { createEc2Instances, runInstancesInput } from "../../aws/ec2-instances.js";
import type { ImdsClient } from "../../context/imds-client.js";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/log.js";
import type { PlanStatus } from "../../cluster/status-document.js";
import type { ProjectNames } from "../../infra/names.js";
import type { InstanceFacts } from "../../preflight/worker/context.js";
import type { WorkerOptions } from "../options.js";
import { NO_HOOKS, workerFailoverPorts } from "./ports.js";
import { readReplacementTemplate, replacementRunSpec, type ReplacementTemplate } from "./replacement-spec.js";
import { StandingPlan } from "./standing-plan.js";

export interface WorkerPlanDeps {
  clients: AwsClients;
  imds: ImdsClient;
  clock: Clock;
  random: () => number;
  log: Logger;
  names: ProjectNames;
  facts: InstanceFacts;
  clusterSize(): number;
  onChange?(plan: PlanStatus): void;
}

/**
 * The standing plan with the worker's own means: SELECT's observation through the failover's very
 * ports, and the DryRun of the very request SPAWN sends (replacementRunSpec over a template read
 * afresh each refresh, so a security group, instance profile or user-data gone since boot shows
 * here, not on the notice). The DryRun does not carry the launch's ClientToken (the SDK then fills
 * in a random one): AWS must not remember that token for anything before the launch itself.
 */
export function workerStandingPlan(deps: WorkerPlanDeps, options: Pick<WorkerOptions, "failover" | "model" | "modelsDir">): StandingPlan {
  const { clients, imds, names, facts } = deps;
  let template: Promise<ReplacementTemplate> | undefined;
  // Mutable on purpose: the plan reads its types on every check; they come with the template (its launchTypes).
  const settings = {
    project: names.project,
    self: { instanceId: facts.instanceId, instanceType: facts.instanceType, zone: facts.availabilityZone },
    instanceTypes: [facts.instanceType],
    failureMemoryMs: options.failover.failureMemoryMs,
  };
  const readTemplate = (signal: AbortSignal) => (template ??= readReplacementTemplate({ clients, imds }, { names, facts, model: options.model, modelsDir: options.modelsDir }, signal));
  const ports = workerFailoverPorts({
    clients,
    instances: createEc2Instances(clients),
    log: deps.log,
    project: names.project,
    selfId: facts.instanceId,
    template: readTemplate,
    targetGroupArn: undefined,
    hooks: NO_HOOKS,
  });
  return new StandingPlan(
    {
      clock: deps.clock,
      random: deps.random,
      log: deps.log,
      clusterSize: deps.clusterSize,
      ...(deps.onChange ? { onChange: deps.onChange } : {}),
      observePools: async (signal) => {
        template = undefined; // each refresh reads the request's parts again
        const observed = await ports.observePools(signal);
        // The launch's ordered types (its tags) come with the template the ports just read: no second IMDS read.
        settings.instanceTypes = (await readTemplate(signal)).launchTypes.instanceTypes;
        return observed;
      },
      dryRun: async (request, signal) => dryRunRunInstances(clients, runInstancesInput(replacementRunSpec(await readTemplate(signal), { ...request, clientToken: "" })), signal),
    },
    settings,
  );
}
