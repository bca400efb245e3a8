import * as s3 from "../aws/s3.js";
import type { LifecycleRuleSpec, PublicAccessBlock } from "../aws/s3.js";
import { doing, type ObserveDeps } from "./deps.js";
import type { ProjectNames } from "./names.js";
import { parsePolicy } from "./policy-compare.js";

/**
 * What the models bucket looks like now. `foreign`: the name (global across AWS) answers 403: most
 * likely another account owns it, or these credentials may not even list it. Either way no setting
 * of ours can be read or fixed.
 */
export type BucketObservation =
  | { state: "missing" }
  | { state: "foreign" }
  | {
      state: "present";
      publicAccessBlock: PublicAccessBlock | undefined;
      encryption: string | undefined;
      /** Parsed JSON, or undefined when there is no bucket policy. */
      policy: unknown;
      lifecycleRules: LifecycleRuleSpec[] | undefined;
      tags: Record<string, string>;
    };

export async function observeBucket(deps: ObserveDeps, names: ProjectNames, signal?: AbortSignal): Promise<BucketObservation> {
  const { clients } = deps;
  const bucket = names.bucket;
  return doing(`reading bucket ${bucket}`, async () => {
    const access = await s3.headBucket(clients, bucket, signal);
    if (access === "missing") return { state: "missing" };
    if (access === "forbidden") return { state: "foreign" };
    const [publicAccessBlock, encryption, policy, lifecycleRules, tags] = await Promise.all([
      s3.getPublicAccessBlock(clients, bucket, signal),
      s3.getDefaultEncryption(clients, bucket, signal),
      s3.getBucketPolicy(clients, bucket, signal),
      s3.getLifecycleRules(clients, bucket, signal),
      s3.getBucketTags(clients, bucket, signal),
    ]);
    return { state: "present", publicAccessBlock, encryption, policy: parsePolicy(policy), lifecycleRules, tags };
  });
}
