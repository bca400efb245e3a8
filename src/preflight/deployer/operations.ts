import type { Requirement } from "../types.js";
import { credentials, region } from "./account.js";
import type { DeployerContext } from "./context.js";
import { deployerRequirements } from "./index.js";
import { bucket } from "./infra.js";

/**
 * What each deployer operation needs before it may change anything. `launch` (the default
 * operation, and `synkti preflight`) needs everything; creating the permanent infrastructure needs
 * only to know where and as whom; an upload needs the bucket that infra up makes.
 */
export type DeployerOperation = "launch" | "infra" | "upload";

export function requirementsFor(operation: DeployerOperation): Requirement<DeployerContext, any>[] {
  switch (operation) {
    case "infra":
      return [region, credentials];
    case "upload":
      return [region, credentials, bucket];
    case "launch":
      return deployerRequirements();
  }
}
