/**
 * The load balancer's settings, in one place: `infra up`, preflight, terraform/ (unit-tested) and
 * the local cloud's load balancer stand-in read them from here.
 */

/** Streamed generations can run for minutes between bytes less often than this; ALB's default is 60 s. */
export const LB_IDLE_TIMEOUT_SECONDS = 600;
export const IDLE_TIMEOUT_ATTRIBUTE = "idle_timeout.timeout_seconds";

/**
 * A request to an LLM takes seconds to minutes and a worker serves a few at a time: the target
 * with the fewest requests in flight, not the next in turn, answers soonest.
 */
export const ROUTING_ALGORITHM = "least_outstanding_requests";
export const ALGORITHM_ATTRIBUTE = "load_balancing.algorithm.type";

/**
 * How long a deregistered worker keeps its in-flight requests. AWS's 300 s default outlasts a spot
 * notice (120 s): the instance would be gone before the delay ends. 90 s leaves the failover the
 * rest of the notice; AWS ends the wait early once no request is in flight.
 */
export const DEREGISTRATION_DELAY_SECONDS = 90;
export const DEREGISTRATION_DELAY_ATTRIBUTE = "deregistration_delay.timeout_seconds";

/** The worker's status endpoint answers 200 here only while it serves and is not draining. */
export const HEALTH_PATH = "/healthz";

/**
 * Every 5 s (ALB's minimum), 2 answers to change state: a dead worker is out of rotation within
 * ~10 s, a new one in within ~10 s of being ready. The timeout must stay below the interval.
 */
export const HEALTH_CHECK = { intervalSeconds: 5, timeoutSeconds: 4, healthyThreshold: 2, unhealthyThreshold: 2 } as const;

/** HTTP redirects to HTTPS permanently once a certificate is given. */
export const REDIRECT_STATUS = "HTTP_301";

/** The key's length in random bytes (256 bits), written base64url (43 characters, no padding). */
export const API_KEY_BYTES = 32;
