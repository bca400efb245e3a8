import { effectiveRegion, s3EndpointIsPlainHttp } from "../aws/clients.js";
import { SynktiError } from "../core/errors.js";
import { doing, type ObserveDeps } from "./deps.js";
import type { AccountContext } from "./policies.js";

/**
 * The account, partition and region the policies are rendered for. The account id comes from STS
 * GetCallerIdentity (no permission needed); the partition from the caller's ARN, so the same
 * templates serve aws, aws-cn and aws-us-gov.
 */
export async function accountContext(deps: ObserveDeps): Promise<AccountContext> {
  const region = await requireRegion(deps);
  const identity = await doing("asking AWS STS who the credentials belong to", () => deps.clients.identity());
  const partition = identity.arn.split(":")[1] || "aws";
  return { accountId: identity.account, partition, region, plainHttpS3: s3EndpointIsPlainHttp() };
}

/** The region in use (flag, AWS_REGION or the profile's); a usage error with the remedy when none. */
export async function requireRegion(deps: ObserveDeps): Promise<string> {
  const region = await effectiveRegion(deps.clients);
  if (region) return region;
  throw new SynktiError("No AWS region is configured.", {
    code: "no-region",
    kind: "unsafe", // a missing precondition, as preflight's region requirement says (exit 1)
    fault: "user",
    remedy: "pass --region <region> (e.g. --region us-east-1) or set AWS_REGION",
  });
}
