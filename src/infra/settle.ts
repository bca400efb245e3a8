import { awsErrorName, classifyAwsError } from "../aws/errors.js";
import type { Clock } from "../core/clock.js";

/**
 * AWS control planes are eventually consistent: right after CreateBucket / CreateRole /
 * CreateSecurityGroup a follow-up call may still answer "not found" for a few seconds, and a
 * security group may report DependencyViolation while a terminated instance's interface is being
 * released. Those answers are retried on the injected clock; anything else fails at once.
 */
const TRANSIENT = new Set(["DependencyViolation", "InvalidGroup.NotFound"]);

export interface SettleOptions {
  attempts?: number;
  firstDelayMs?: number;
}

export async function settle<T>(clock: Clock, work: () => Promise<T>, options: SettleOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  let delay = options.firstDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const transient = classifyAwsError(error) === "not-found" || TRANSIENT.has(awsErrorName(error));
      if (!transient || attempt >= attempts) throw error;
      await clock.sleep(delay);
      delay = Math.min(delay * 2, 8000);
    }
  }
}
