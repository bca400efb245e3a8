import { s3EndpointIsPlainHttp } from "../aws/clients.js";
import { callerIdentity } from "../aws/identity.js";
import { SynktiError } from "../core/errors.js";
import { doing, type ObserveDeps } from "./deps.js";
import type { AccountContext } from "./policies.js";

/**
 * The account, partition and region the policies are rendered for. The account id comes from STS
 * GetCallerIdentity (no permission needed); the partition from the caller's ARN, so the same
 * templates serve aws, aws-cn and aws-us-gov.
 */
export async function accountContext(deps: ObserveDeps, signal?: AbortSignal): Promise<AccountContext> {
  const region = await effectiveRegion(deps);
  const identity = await doing("asking AWS STS who the credentials belong to", () => callerIdentity(deps.clients, signal));
  const partition = identity.arn.split(":")[1] || "aws";
  return { accountId: identity.account, partition, region, plainHttpS3: s3EndpointIsPlainHttp() };
}

/** The flag or AWS_REGION, else what the SDK resolves (e.g. the profile's region). */
export async function effectiveRegion(deps: ObserveDeps): Promise<string> {
  if (deps.clients.region) return deps.clients.region;
  try {
    const region = await (await deps.clients.ec2()).config.region();
    if (region) return region;
  } catch {
    // no region anywhere: say so below
  }
  throw new SynktiError("No AWS region is configured.", {
    code: "no-region",
    kind: "usage",
    fault: "user",
    remedy: "pass --region <region> (e.g. --region us-east-1) or set AWS_REGION",
  });
}
