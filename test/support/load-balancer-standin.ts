/**
 * A stand-in for one Application Load Balancer. moto keeps load balancers, listeners and target
 * groups but routes nothing and calls every registered target healthy at once; this plays the part
 * of ALB that matters to synkti, on loopback.
 *
 * Behaviour spec (modelled on AWS ALB; times are the group's, divided by `timeScale`):
 * 1. Listens on 127.0.0.1 (`port` 0 or absent: a free one), plain HTTP; `url` says where. One
 *    stand-in per load balancer (`watchLoadBalancers` in load-balancer/fleet.ts starts one for each
 *    load balancer moto has).
 * 2. Learns, every `pollIntervalMs` (default 1000) and on `sync()`, from its source (moto:
 *    DescribeListeners -> the HTTP listener's forward target group, DescribeTargetGroups,
 *    DescribeTargetGroupAttributes, DescribeTargetHealth): the registered targets (instance id +
 *    port), the health check (path, port or traffic-port, interval, timeout, thresholds, matcher),
 *    the deregistration delay and the algorithm. A failed read keeps what it knew.
 * 3. Addresses come from `resolve(instanceId, port, purpose)`: purpose "traffic" for the target's
 *    port, "health-check" for the health-check port, so the local cloud can map either (a host:
 *    same port; `{host, port}`: another port; undefined: not reachable yet). Only 127.0.0.0/8 is
 *    ever contacted: any other address is refused (health checks fail, requests get 502).
 * 4. Health: a new target is `initial` (Elb.RegistrationInProgress, then Elb.InitialHealthChecking)
 *    and checked at once, then every interval: GET path, the group's timeout, success when the
 *    status matches the matcher. `healthyThreshold` consecutive successes make it `healthy`,
 *    `unhealthyThreshold` consecutive failures `unhealthy` (Target.ResponseCodeMismatch,
 *    Target.Timeout or Target.FailedHealthChecks, with a description).
 * 5. Routing: each request goes to the healthy target with the fewest outstanding requests
 *    (least_outstanding_requests; ties round robin; a `round_robin` group ignores the load).
 *    Request and response stream both ways (server-sent events arrive token by token); headers pass
 *    unchanged, Authorization included, plus X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id.
 *    A client that leaves aborts the target's request.
 * 6. Deregistration: a target gone from the listing is `draining`: no new requests and no health
 *    checks; its in-flight requests finish. It is gone once none is in flight (AWS completes early
 *    then) or when the delay runs out, which cuts whatever is still in flight.
 * 7. Errors, like ALB: 503 when no target is healthy (AWS would instead "fail open" and route to
 *    every target when all registered ones are unhealthy; the stand-in keeps the simpler rule so a
 *    test sees 503, not a 502 from a dead target); 502 when the target refuses or resets before its
 *    response headers; a target failing after the body started cuts the client's stream.
 * 8. For tests and the local cloud: `targets()` ({instanceId, port, state, reason?, description?},
 *    draining ones included until done), `requests()` (requests sent to each instance so far),
 *    `describe()` (JSON for listings), `close()` / `[Symbol.asyncDispose]` (stops, cuts what is in
 *    flight). `log` gets one line per state change and one per refused address.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock, type Clock } from "../../src/core/clock.js";
import { assertLoopback, isLoopback, LOOPBACK } from "./free-port.js";
import { forward, answerError, type Exchange } from "./load-balancer/forward.js";
import { healthCheck, type Endpoint } from "./load-balancer/health-check.js";
import type { LoadBalancerSource, LoadBalancerView } from "./load-balancer/moto-elbv2.js";
import { startPollLoop } from "./load-balancer/poll-loop.js";
import { TargetTable, type RegisteredTarget, type TargetHealthView } from "./load-balancer/targets.js";

export type { TargetHealthView, TargetState } from "./load-balancer/targets.js";

export type TargetPurpose = "traffic" | "health-check";
/** Where an instance's port is reached locally: a host (same port), a host and port, or undefined (not yet). */
export type TargetResolver = (instanceId: string, port: number, purpose: TargetPurpose) => string | Endpoint | undefined;

export interface LoadBalancerStandinOptions {
  source: LoadBalancerSource;
  resolve: TargetResolver;
  /** For logs and listings: the load balancer's name (and ARN). */
  name?: string;
  arn?: string;
  host?: string;
  port?: number;
  pollIntervalMs?: number;
  /** Divides the group's interval, timeout and deregistration delay (tests run ALB's timeline faster). */
  timeScale?: number;
  clock?: Clock;
  log?: (line: string) => void;
}

export interface LoadBalancerStandin extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  targets(): TargetHealthView[];
  requests(): Record<string, number>;
  describe(): { name: string; arn?: string; url: string; targetGroup?: string; targets: TargetHealthView[]; requests: Record<string, number> };
  /** Reads the source now (serialised with the background polls). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function startLoadBalancerStandin(options: LoadBalancerStandinOptions): Promise<LoadBalancerStandin> {
  const host = options.host ?? LOOPBACK;
  assertLoopback(host);
  const clock = options.clock ?? systemClock;
  const scale = options.timeScale ?? 1;
  const name = options.name ?? "load-balancer";
  const log = options.log ?? (() => {});
  const table = new TargetTable(clock);
  const inFlight = new Map<string, Set<Exchange>>();
  const checking = new Set<string>();
  const stopper = new AbortController();
  let view: LoadBalancerView = { targets: [] };
  let lastStates = new Map<string, string>();
  const refused = new Set<string>();

  const logChanges = () => {
    const now = new Map(table.list().map((t) => [`${t.instanceId}:${t.port}`, t.state]));
    for (const [key, state] of now) if (lastStates.get(key) !== state) log(`[load-balancer ${name}] target ${key} ${state}`);
    for (const [key, last] of lastStates) {
      if (now.has(key)) continue;
      // A deregistered target with nothing in flight drains in no time (ALB ends the delay early), so
      // between two looks it went from serving to gone: it still drained, and the log says so.
      if (last !== "draining") log(`[load-balancer ${name}] target ${key} draining`);
      log(`[load-balancer ${name}] target ${key} deregistered`);
    }
    lastStates = now;
  };

  const locate = (target: RegisteredTarget, port: number, purpose: TargetPurpose): Endpoint | { error: string } => {
    let found: ReturnType<TargetResolver>;
    try {
      found = options.resolve(target.instanceId, port, purpose);
    } catch {
      found = undefined; // a resolver that throws for an unknown instance means "not reachable yet", like one still booting
    }
    if (found === undefined) return { error: `no local address for ${target.instanceId} yet` };
    const endpoint = typeof found === "string" ? { host: found, port } : found;
    if (isLoopback(endpoint.host)) return endpoint;
    const error = `refused to reach ${endpoint.host}:${endpoint.port} for ${target.instanceId}: the stand-in only talks to 127.0.0.0/8`;
    if (!refused.has(error)) log(`[load-balancer ${name}] ${error}`); // once, not every health check
    refused.add(error);
    return { error };
  };

  const checkLoop = async (key: string, target: RegisteredTarget) => {
    checking.add(key);
    try {
      while (!stopper.signal.aborted && table.has(key) && view.targetGroup) {
        const hc = view.targetGroup.healthCheck;
        const where = locate(target, hc.port === "traffic-port" ? target.port : hc.port, "health-check");
        const result = "error" in where ? { ok: false as const, reason: "Target.FailedHealthChecks", description: where.error } : await healthCheck(where, hc.path, hc.matcher, (hc.timeoutSeconds * 1000) / scale);
        table.record(key, result, hc);
        logChanges();
        await clock.sleep((hc.intervalSeconds * 1000) / scale, stopper.signal).catch(() => {});
      }
    } finally {
      checking.delete(key);
    }
  };

  const cutExpired = () => {
    for (const key of table.sweep()) for (const exchange of inFlight.get(key) ?? []) exchange.cut();
    logChanges();
  };

  const pollOnce = async () => {
    if (stopper.signal.aborted) return;
    try {
      view = await options.source();
    } catch (error) {
      log(`[load-balancer ${name}] could not read the load balancer from moto (keeping what it knew): ${String(error)}`);
    }
    const delayMs = ((view.targetGroup?.deregistrationDelaySeconds ?? 300) * 1000) / scale;
    for (const key of table.sync(view.targetGroup ? view.targets : [], delayMs)) {
      const target = view.targets.find((t) => `${t.instanceId}:${t.port}` === key)!;
      if (!checking.has(key)) void checkLoop(key, target);
    }
    cutExpired();
  };

  // No whole-request deadline (Node's default cuts requests after 300 s): a streamed generation may
  // run long, and ALB limits only idleness (synkti sets 600 s; not played here).
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    const picked = table.pick(view.targetGroup?.algorithm);
    if (!picked) return answerError(res, 503);
    const where = locate(picked, picked.port, "traffic");
    if ("error" in where) return answerError(res, 502);
    table.begin(picked.key);
    const exchange = forward(req, res, where, port);
    const set = inFlight.get(picked.key) ?? new Set<Exchange>();
    inFlight.set(picked.key, set.add(exchange));
    void exchange.done.then(() => {
      set.delete(exchange);
      table.end(picked.key);
      logChanges();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: options.port ?? 0, exclusive: true }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  log(`[load-balancer ${name}] listening on ${url}`);

  const polls = startPollLoop(clock, options.pollIntervalMs ?? 1000, pollOnce, (error) => log(`[load-balancer ${name}] poll failed: ${String(error)}`));
  await polls.sync();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      stopper.abort();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const set of inFlight.values()) for (const exchange of set) exchange.cut();
      server.closeAllConnections();
      await Promise.all([stopped, polls.stop()]);
    })());

  return {
    url,
    port,
    name,
    targets: () => table.list(),
    requests: () => table.requests(),
    describe: () => ({ name, ...(options.arn ? { arn: options.arn } : {}), url, ...(view.targetGroup ? { targetGroup: view.targetGroup.name } : {}), targets: table.list(), requests: table.requests() }),
    sync: () => polls.sync(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
