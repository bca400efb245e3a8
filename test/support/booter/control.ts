/**
 * The local cloud's control endpoint: how `npm run local-cloud -- interrupt|rebalance|kill <id>`
 * (another process) reaches the booter of the running `npm run local-cloud`.
 *
 * Behaviour spec:
 * - Listens on 127.0.0.1 only (port 0 -> `url`); JSON in and out.
 * - GET /instances: every instance the booter booted: id, address, pid, IMDS url, log file, how
 *   its user-data exited (if it did), its state (running, shutting-down, ended) and whether it has
 *   ended (or begun to).
 * - GET /load-balancers: the load balancer stand-ins (`loadBalancers` given at start: name, URL,
 *   target group, targets with their health, requests per instance); [] when none is given.
 * - POST /instances/<id>/interrupt (body optional: {"reclaimAfterMs": n|null}) -> the notice;
 *   POST /instances/<id>/rebalance -> the recommendation; POST /instances/<id>/kill -> {killed}
 *   (also during a shutdown's grace, which it cuts short). An instance that is not running here
 *   (unknown, malformed, ended): 404 {"error"} naming the running ones; an unknown action or
 *   path: 404; other methods 405.
 * - `controlRequest(url, action, id?)` is the client: resolves with the JSON answer, rejects with
 *   a ControlError holding the server's error message and HTTP status.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { LOOPBACK } from "../free-port.js";
import { NoSuchInstanceError, type Booter } from "./booter.js";

export type ControlAction = "instances" | "load-balancers" | "interrupt" | "rebalance" | "kill";
/** The listings answered by GET; the other actions are POSTs on one instance. */
const LISTINGS: readonly ControlAction[] = ["instances", "load-balancers"];

export interface ControlServer extends AsyncDisposable {
  readonly url: string;
  close(): Promise<void>;
}

function describe(booter: Booter) {
  return booter.instances().map((i) => ({
    instanceId: i.instanceId,
    address: i.address,
    pid: i.pid ?? null,
    imds: i.imds.url,
    log: i.logFile,
    exit: i.exit ?? null,
    state: i.state,
    ended: i.ended,
  }));
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let body = "";
  for await (const chunk of req) body += String(chunk);
  return body.trim() ? (JSON.parse(body) as Record<string, unknown>) : {};
}

async function act(booter: Booter, action: string, id: string, body: Record<string, unknown>): Promise<unknown> {
  if (action === "interrupt") {
    const reclaim = body.reclaimAfterMs;
    return booter.injectSpotInterruption(id, typeof reclaim === "number" || reclaim === null ? { reclaimAfterMs: reclaim } : {});
  }
  if (action === "rebalance") return booter.injectRebalance(id);
  await booter.kill(id);
  return { killed: id };
}

export async function startControlServer(booter: Booter, extra: { loadBalancers?: () => unknown[] } = {}): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(value)}\n`);
    const path = new URL(req.url ?? "/", "http://control").pathname;
    const match = /^\/instances\/([^/]+)\/(interrupt|rebalance|kill)$/.exec(path);
    if (path === "/instances" && req.method === "GET") return reply(200, describe(booter));
    if (path === "/load-balancers" && req.method === "GET") return reply(200, extra.loadBalancers?.() ?? []);
    if (!match) return reply(404, { error: `no such endpoint: ${req.method} ${path}` });
    if (req.method !== "POST") return reply(405, { error: "use POST" });
    const [, id, action] = match as unknown as [string, string, string];
    readJson(req)
      .then((body) => act(booter, action, decodeURIComponent(id), body))
      .then((answer) => reply(200, answer))
      .catch((error: unknown) => reply(error instanceof NoSuchInstanceError ? 404 : 500, { error: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const url = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { url, close, [Symbol.asyncDispose]: close };
}

/** The control endpoint refused: `status` 404 for an instance that is not running here. */
export class ControlError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export async function controlRequest(url: string, action: ControlAction, instanceId?: string, body?: unknown): Promise<unknown> {
  const listing = LISTINGS.includes(action);
  const target = listing ? `${url}/${action}` : `${url}/instances/${encodeURIComponent(instanceId ?? "")}/${action}`;
  const response = await fetch(target, {
    method: listing ? "GET" : "POST",
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    signal: AbortSignal.timeout(15_000),
  });
  const answer = (await response.json()) as { error?: string };
  if (!response.ok) throw new ControlError(answer.error ?? `control endpoint answered ${response.status}`, response.status);
  return answer;
}
