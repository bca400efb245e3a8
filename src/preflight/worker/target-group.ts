import type { TargetGroupRef } from "../../aws/elbv2-targets.js";
import { awsErrorName, classifyAwsError } from "../../aws/errors.js";
import type { Requirement } from "../types.js";
import type { WorkerContext } from "./context.js";

type TargetGroupObservation = { group: TargetGroupRef | undefined } | { denied: string };

/**
 * The worker joins the project's load balancer by registering itself in this target group; without
 * it, a healthy worker serves nobody. Found by name (its ARN is kept for the registration).
 */
export const targetGroupPresent: Requirement<WorkerContext, TargetGroupObservation> = {
  id: "target-group",
  title: "the load balancer's target group exists (the worker joins it)",
  dependsOn: ["worker-identity", "instance-role"],
  timeoutMs: 10_000,
  async observe(ctx) {
    try {
      return { group: await ctx.targetGroup() };
    } catch (error) {
      if (classifyAwsError(error) === "auth") return { denied: awsErrorName(error) };
      throw error;
    }
  },
  verdict(obs, ctx) {
    const fix = { command: `synkti infra up --project-name ${ctx.names.project}` };
    if ("denied" in obs) return { status: "fail", observed: `this instance's role may not describe target group ${ctx.names.targetGroup} (${obs.denied})`, fix };
    if (!obs.group) return { status: "fail", observed: `target group ${ctx.names.targetGroup} does not exist: this worker could not join the load balancer`, fix };
    return { status: "pass", observed: `${obs.group.name} (traffic port ${obs.group.port})` };
  },
};
