import type { InstanceSummary } from "../../aws/ec2-instances.js";
import { createEc2Instances } from "../../aws/ec2-instances.js";
import { activeWorkers, checkModel } from "../../cluster/membership.js";
import type { Requirement } from "../types.js";
import { synktiCommand, type DeployerContext } from "./context.js";

/**
 * One project serves one model. The project's pending or running workers (their SynktiModel tag)
 * serve the model asked for, or there are none. This listing is also what the launch plans with
 * (hand-over), so preflight and launch judge the same fleet. Untagged workers (an older synkti)
 * are a warning: their model cannot be known from outside.
 */
export const workersModel: Requirement<DeployerContext, InstanceSummary[]> = {
  id: "workers-model",
  title: "running workers serve this model",
  dependsOn: ["credentials", "region"],
  observe: async (ctx, signal) => (ctx.model ? activeWorkers(createEc2Instances(ctx.clients), ctx.names.project, signal) : []),
  verdict(workers, ctx) {
    if (!ctx.model) return { status: "skipped", observed: "no --model given" };
    if (workers.length === 0) return { status: "pass", observed: "no workers pending or running" };
    const { others, untagged } = checkModel(workers, ctx.model);
    if (others.length > 0) {
      const listed = others.map((o) => `${o.instanceId} (${o.model})`).join(", ");
      return { status: "fail", observed: `the project's workers serve another model: ${listed}; one project serves one model, stop them first`, fix: { command: synktiCommand(ctx, "down") } };
    }
    if (untagged.length > 0) {
      return { status: "warn", observed: `${untagged.join(", ")}: no SynktiModel tag (launched by an older synkti); counted as serving ${ctx.model}` };
    }
    return { status: "pass", observed: `${workers.length} worker${workers.length === 1 ? "" : "s"} serving ${ctx.model}` };
  },
};
