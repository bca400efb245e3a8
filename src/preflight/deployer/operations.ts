import type { Requirement } from "../types.js";
import { credentials, region } from "./account.js";
import type { DeployerContext } from "./context.js";
import { deployerRequirements } from "./index.js";

/**
 * What each deployer operation needs before it may change anything. `launch` (the default
 * operation, and `synkti preflight`) needs everything; creating the permanent infrastructure needs
 * only to know where and as whom. (Uploads check their own input, then the bucket, before writing.)
 */
export type DeployerOperation = "launch" | "infra";

export function requirementsFor(operation: DeployerOperation): Requirement<DeployerContext, any>[] {
  switch (operation) {
    case "infra":
      return [region, credentials];
    case "launch":
      return deployerRequirements();
  }
}
