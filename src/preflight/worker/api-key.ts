import { awsErrorName, classifyAwsError } from "../../aws/errors.js";
import type { Requirement } from "../types.js";
import type { WorkerContext } from "./context.js";

/** What was seen, never the value: an observation is logged and printed. */
type ApiKeyObservation = { state: "readable" } | { state: "missing" | "blank" } | { state: "denied"; detail: string };

/**
 * The model server gets the project's API key (VLLM_API_KEY) or it does not start: without it, vLLM
 * serves anyone who reaches its port, and the load balancer admits whole CIDRs. A parameter that is
 * missing or that this role may not read is UNSAFE; `infra up` makes the key and repairs the policy.
 */
export const apiKeyReadable: Requirement<WorkerContext, ApiKeyObservation> = {
  id: "api-key",
  title: "API key readable (SSM SecureString) for the model server",
  dependsOn: ["worker-identity", "instance-role"],
  timeoutMs: 10_000,
  async observe(ctx) {
    try {
      const value = await ctx.apiKey();
      if (value === undefined) return { state: "missing" };
      return value.trim() ? { state: "readable" } : { state: "blank" };
    } catch (error) {
      if (classifyAwsError(error) === "auth") return { state: "denied", detail: awsErrorName(error) };
      throw error; // unreachable, throttled: could not observe (UNKNOWN, asked again)
    }
  },
  verdict(obs, ctx) {
    const parameter = ctx.names.apiKeyParameter;
    const infraUp = { command: `synkti infra up --project-name ${ctx.names.project}` };
    switch (obs.state) {
      case "readable":
        return { status: "pass", observed: `${parameter} readable (the model server gets it as VLLM_API_KEY)` };
      case "missing":
        return { status: "fail", observed: `${parameter} does not exist: the model server would serve without authentication`, fix: infraUp };
      case "denied":
        return { status: "fail", observed: `this instance's role may not read ${parameter} (${obs.detail}): the model server would serve without authentication`, fix: infraUp };
      case "blank":
        return { status: "fail", observed: `${parameter} is blank: no key to require`, fix: { command: `aws ssm delete-parameter --name ${parameter}   # then: synkti infra up --project-name ${ctx.names.project}` } };
    }
  },
};
