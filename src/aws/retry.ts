import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from "@smithy/types";
import { classifyAwsError } from "./errors.js";

/**
 * The SDK's standard retries, except for capacity errors. AWS answers InsufficientInstanceCapacity
 * with HTTP 500, which the SDK treats as transient and retries with backoff in the same zone; for
 * synkti that is wasted time (a launch moves to another zone, a failover has 120 s in all), so
 * capacity errors reach the caller at once. Everything else keeps the standard behaviour.
 */
export function withoutCapacityRetries(inner: RetryStrategyV2): RetryStrategyV2 {
  return {
    acquireInitialRetryToken: (scope: string) => inner.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo) {
      // The retry middleware answers a refusal by throwing the caller's own error.
      if (classifyAwsError(errorInfo.error) === "capacity") return Promise.reject(new Error("capacity errors are not retried"));
      return inner.refreshRetryTokenForRetry(token, errorInfo);
    },
    recordSuccess: (token: StandardRetryToken) => inner.recordSuccess(token),
  };
}
