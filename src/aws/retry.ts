import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from "@smithy/types";
import { isAwsNoAnswer } from "./deadlines.js";
import { classifyAwsError } from "./errors.js";

/**
 * The SDK's standard retries, except where a retry only adds waiting:
 * - an attempt that missed a deadline (AwsNoAnswer): AWS did not answer within the whole deadline,
 *   so a second attempt would double the wait of a command whose endpoint is silent, and the
 *   deadline would no longer bound the call. Quick failures (a reset connection, a 500, throttling)
 *   keep their retries.
 * - capacity errors, when `capacity` is set (EC2): AWS answers InsufficientInstanceCapacity with
 *   HTTP 500, which the SDK treats as transient and retries with backoff in the same zone; for
 *   synkti that is wasted time (a launch moves to another zone, a failover has 120 s in all).
 */
export function withoutFutileRetries(inner: RetryStrategyV2, options: { capacity: boolean }): RetryStrategyV2 {
  return {
    acquireInitialRetryToken: (scope: string) => inner.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo) {
      // The retry middleware answers a refusal by throwing the caller's own error.
      if (isAwsNoAnswer(errorInfo.error)) return Promise.reject(new Error("a missed deadline is not retried"));
      if (options.capacity && classifyAwsError(errorInfo.error) === "capacity") return Promise.reject(new Error("capacity errors are not retried"));
      return inner.refreshRetryTokenForRetry(token, errorInfo);
    },
    recordSuccess: (token: StandardRetryToken) => inner.recordSuccess(token),
  };
}
