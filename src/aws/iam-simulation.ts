import type { AwsClients } from "./clients.js";
import { awsErrorName, classifyAwsError } from "./errors.js";

export type SimulationResult =
  | { verified: true; denied: string[] }
  | { verified: false; reason: string };

/**
 * Asks IAM whether the caller's policies allow each action. Where the account or endpoint cannot
 * simulate (no iam:SimulatePrincipalPolicy permission, or an emulator without it) the answer is
 * "not verified", never a pass.
 */
export async function simulateCallerActions(
  clients: AwsClients,
  callerArn: string,
  actions: string[],
  signal?: AbortSignal,
): Promise<SimulationResult> {
  const { SimulatePrincipalPolicyCommand } = await import("@aws-sdk/client-iam");
  const iam = await clients.iam();
  const principal = principalArnFor(callerArn);
  try {
    const out = await iam.send(
      new SimulatePrincipalPolicyCommand({ PolicySourceArn: principal, ActionNames: actions }),
      { abortSignal: signal },
    );
    const denied = (out.EvaluationResults ?? [])
      .filter((r) => r.EvalDecision !== "allowed")
      .map((r) => r.EvalActionName ?? "?");
    return { verified: true, denied };
  } catch (error) {
    const kind = classifyAwsError(error);
    if (kind === "auth" || kind === "server" || kind === "other") {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      return { verified: false, reason: `iam:SimulatePrincipalPolicy answered ${awsErrorName(error)}${status ? ` (HTTP ${status})` : ""}` };
    }
    throw error;
  }
}

/** STS reports assumed roles as sts ARNs; IAM simulation wants the role's own ARN. */
export function principalArnFor(callerArn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : callerArn;
}
