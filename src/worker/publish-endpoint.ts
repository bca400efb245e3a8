import type { Ec2Peers } from "../aws/ec2-peers.js";
import type { Clock } from "../core/clock.js";
import type { Logger } from "../core/log.js";
import { TAG_ENDPOINT } from "../infra/names.js";

/**
 * Publishes how peers reach this worker: `SynktiEndpoint=<local-ipv4>:<status port>` on its own
 * instance. Until it lands, peers (and `synkti status`) cannot ask this worker anything, so it is
 * retried until it works (throttling, eventual consistency of a fresh instance id), not given up.
 */
export async function publishEndpoint(
  deps: { ec2: Pick<Ec2Peers, "tagSelf">; clock: Clock; log: Logger },
  instanceId: string,
  endpoint: string,
  retryMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await deps.ec2.tagSelf(instanceId, { [TAG_ENDPOINT]: endpoint }, signal);
      deps.log.info({ tag: `${TAG_ENDPOINT}=${endpoint}`, instanceId }, "published the status endpoint");
      return true;
    } catch (error) {
      if (signal.aborted) return false;
      deps.log.warn({ attempt, error: error instanceof Error ? error.message : String(error), retryMs }, "could not tag this instance with its endpoint; retrying");
    }
    await deps.clock.sleep(retryMs, signal).catch(() => {});
  }
  return false;
}
