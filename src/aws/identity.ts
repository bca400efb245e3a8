import type { AwsClients } from "./clients.js";

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/**
 * Who the credentials belong to (STS GetCallerIdentity needs no permission, so it proves validity).
 * Callers use `clients.identity()`, which asks once per process.
 */
export async function callerIdentity(clients: Pick<AwsClients, "sts">, signal?: AbortSignal): Promise<CallerIdentity> {
  const { GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  const sts = await clients.sts();
  const out = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
  return { account: out.Account ?? "", arn: out.Arn ?? "", userId: out.UserId ?? "" };
}
