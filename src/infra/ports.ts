/**
 * The TCP ports of a worker, in one place: the security group, terraform/ (checked by a unit test),
 * the worker agent and the status client all read them from here.
 */

/** vLLM's OpenAI-compatible server; 8000 is `vllm serve`'s own default, so production needs no flag. */
export const MODEL_SERVER_PORT = 8000;

/**
 * The worker agent's status endpoint, which peers ask for health (P2P: no coordinator). Kept apart
 * from the model server so a peer can answer "draining" while vLLM is still finishing requests.
 */
export const STATUS_PORT = 8080;

/**
 * Ports peers reach each other on. The security group opens exactly these, and only to members of
 * the same group (a self-referencing rule): never to 0.0.0.0/0, and no SSH at all (SSM instead).
 */
export const PEER_PORTS = [
  { port: MODEL_SERVER_PORT, description: "vLLM from peer workers" },
  { port: STATUS_PORT, description: "synkti status from peer workers" },
] as const;

/**
 * Ports the load balancer reaches a worker on, opened only to the load balancer's own security
 * group: vLLM for the traffic, the status port for its health check (`/healthz`).
 */
export const LOAD_BALANCER_TARGET_PORTS = [
  { port: MODEL_SERVER_PORT, description: "vLLM from the load balancer" },
  { port: STATUS_PORT, description: "health checks from the load balancer" },
] as const;

/** The load balancer's listeners: plain HTTP always, HTTPS when a certificate is given. */
export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;
