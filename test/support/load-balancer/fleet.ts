/**
 * One load balancer stand-in for each load balancer in moto, for the local cloud.
 *
 * Behaviour spec:
 * - `watchLoadBalancers({ motoUrl, resolve })` lists moto's application load balancers
 *   (DescribeLoadBalancers) now and every `pollIntervalMs` (default 1000): each new one gets a
 *   stand-in on a free 127.0.0.1 port, learning its targets from moto; one deleted from moto
 *   (`infra destroy`) has its stand-in closed. `filter` narrows which load balancers are played.
 * - `onEvent` hears {type: "started", name, url} and {type: "stopped", name} (the local cloud prints
 *   `# load balancer <name>: <url>`), and {type: "error", message} for a failed listing (retried).
 * - `list()` describes every stand-in (name, arn, dnsName, url, targetGroup, targets, requests) as
 *   JSON for `npm run local-cloud -- load-balancers`; `get(name)` finds one; `sync()` lists now.
 * - `reserve` names load balancers whose port is chosen now, before they exist (the local cloud
 *   prints it at start as SYNKTI_ENDPOINT_URL): until one exists, and after it is deleted, its port
 *   answers 503 saying so (load-balancer/reserved-port.ts); its stand-in listens on that same port.
 *   `reserved(name)` gives the URL.
 * - `stop()` / `[Symbol.asyncDispose]` closes them all (reserved ports included).
 * - `booterResolver(booter)` maps an instance id to the booter's address for it (not booted or
 *   ended: unknown, so its health checks fail as an unreachable instance's would).
 */
import { systemClock, type Clock } from "../../../src/core/clock.js";
import { LOOPBACK } from "../free-port.js";
import { startLoadBalancerStandin, type LoadBalancerStandin, type TargetResolver } from "../load-balancer-standin.js";
import { startPollLoop } from "./poll-loop.js";
import { MotoElbv2, type LoadBalancerSummary } from "./moto-elbv2.js";
import { holdPort, type PortHold } from "./reserved-port.js";

/**
 * The local cloud's resolver: a booted, still running instance's own 127.x address. Each instance
 * binds the production ports (8000, 8080) there, so the group's ports apply unchanged; a local cloud
 * that moves ports returns `{ host, port }` from its own resolver instead.
 */
export const booterResolver =
  (booter: { instances(): readonly { instanceId: string; address: string; ended: boolean }[] }): TargetResolver =>
  (instanceId) =>
    booter.instances().find((i) => i.instanceId === instanceId && !i.ended)?.address;

export type FleetEvent = { type: "started"; name: string; arn: string; url: string } | { type: "stopped"; name: string; arn: string } | { type: "error"; message: string };

export interface FleetOptions {
  motoUrl: string;
  resolve: TargetResolver;
  region?: string;
  pollIntervalMs?: number;
  timeScale?: number;
  filter?: (loadBalancer: LoadBalancerSummary) => boolean;
  /** Load balancer names whose port is kept from now on (see the spec). */
  reserve?: string[];
  clock?: Clock;
  onEvent?: (event: FleetEvent) => void;
  log?: (line: string) => void;
}

export interface LoadBalancerFleet extends AsyncDisposable {
  list(): (ReturnType<LoadBalancerStandin["describe"]> & { dnsName: string })[];
  get(name: string): LoadBalancerStandin | undefined;
  /** The URL kept for a reserved name, whether or not its load balancer exists. */
  reserved(name: string): string | undefined;
  sync(): Promise<void>;
  stop(): Promise<void>;
}

export async function watchLoadBalancers(options: FleetOptions): Promise<LoadBalancerFleet> {
  const moto = new MotoElbv2(options.motoUrl, options.region);
  const clock = options.clock ?? systemClock;
  const emit = options.onEvent ?? (() => {});
  const running = new Map<string, { summary: LoadBalancerSummary; standin: LoadBalancerStandin }>();
  const reserved = new Map<string, { port: number; hold: PortHold | undefined }>();
  for (const name of options.reserve ?? []) {
    const hold = await holdPort(0, name);
    reserved.set(name, { port: hold.port, hold });
  }
  /** Keeps a reserved name's port while no stand-in listens there (a failure is reported, retried at the next stop). */
  const rehold = async (name: string) => {
    const kept = reserved.get(name);
    if (!kept || kept.hold) return;
    kept.hold = await holdPort(kept.port, name).catch((error: unknown) => (emit({ type: "error", message: `could not keep port ${kept.port} for ${name}: ${String(error)}` }), undefined));
  };

  const pollOnce = async () => {
    let found: LoadBalancerSummary[];
    try {
      found = (await moto.loadBalancers()).filter((lb) => options.filter?.(lb) ?? true);
    } catch (error) {
      return emit({ type: "error", message: `DescribeLoadBalancers failed (retrying): ${String(error)}` });
    }
    for (const [arn, { summary, standin }] of running) {
      if (found.some((lb) => lb.arn === arn)) continue;
      running.delete(arn);
      await standin.close();
      await rehold(summary.name);
      emit({ type: "stopped", name: summary.name, arn });
    }
    for (const summary of found) {
      if (running.has(summary.arn)) continue;
      const kept = reserved.get(summary.name);
      await kept?.hold?.close(); // the stand-in takes the port over
      if (kept) kept.hold = undefined;
      const standin = await startLoadBalancerStandin({
        source: moto.source(summary.arn),
        resolve: options.resolve,
        name: summary.name,
        arn: summary.arn,
        clock,
        ...(kept ? { port: kept.port } : {}),
        ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
        ...(options.timeScale ? { timeScale: options.timeScale } : {}),
        ...(options.log ? { log: options.log } : {}),
      }).catch(async (error: unknown) => {
        await rehold(summary.name);
        throw error;
      });
      running.set(summary.arn, { summary, standin });
      emit({ type: "started", name: summary.name, arn: summary.arn, url: standin.url });
    }
  };
  const polls = startPollLoop(clock, options.pollIntervalMs ?? 1000, pollOnce, (error) => emit({ type: "error", message: `could not start a load balancer stand-in (retrying): ${String(error)}` }));
  await polls.sync();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await polls.stop();
      await Promise.all([...running.values()].map(({ standin }) => standin.close()));
      await Promise.all([...reserved.values()].map(async (kept) => kept.hold?.close()));
      running.clear();
      moto.close();
    })());

  return {
    list: () => [...running.values()].map(({ summary, standin }) => ({ ...standin.describe(), dnsName: summary.dnsName })),
    reserved: (name) => {
      const kept = reserved.get(name);
      return kept ? `http://${LOOPBACK}:${kept.port}` : undefined;
    },
    get: (name) => [...running.values()].find(({ summary }) => summary.name === name)?.standin,
    sync: () => polls.sync(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
