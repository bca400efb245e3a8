import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../core/log.js";
// One path for the load balancer's health check (infra/ configures it) and the endpoint that answers it.
import { HEALTH_PATH } from "../../infra/load-balancer-settings.js";
import { STATUS_PATH } from "../../cluster/peer-client.js";
import type { StatusDocument } from "../../cluster/status-document.js";
import { peerSafe } from "./peer-safe.js";
import { messageOf } from "../../core/errors.js";

export interface StatusServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** `<host>:<port>`, what the SynktiEndpoint tag carries. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface StatusSources {
  document(): Promise<StatusDocument>;
  /** The model server is healthy and the worker is not draining (GET /healthz: 200, else 503). */
  healthy(): boolean;
}

/**
 * What one client, or all of them, may take of the endpoint. Its callers are peers (one ask at a
 * time each, answered in milliseconds), the load balancer's health checks (one per node) and
 * `synkti status`: a few connections at once. A broken or compromised peer must not hold the rest
 * out (slowloris: connections opened and fed a header byte at a time; or simply many of them).
 */
export interface StatusServerLimits {
  /** The whole header block must arrive within this (else 408 and the connection is closed). */
  headersTimeoutMs: number;
  /** The whole request, likewise. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two deadlines above (its default, 30 s, would let a slow client stay 30 s). */
  checkEveryMs: number;
  /** Open connections in all; one more is closed at once. */
  maxConnections: number;
  /** Open connections from one address: one peer cannot take them all (the load balancer has its own addresses). */
  maxConnectionsPerAddress: number;
}

export const STATUS_SERVER_LIMITS: StatusServerLimits = {
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  checkEveryMs: 1000,
  maxConnections: 64,
  maxConnectionsPerAddress: 16,
};

/**
 * The worker's status endpoint: GET /status (JSON) and GET /healthz (200/503, for a load balancer's
 * target health check). Bound to one address (the instance's local-ipv4), never 0.0.0.0: peers and
 * the load balancer reach it there, and nothing else on the machine needs it.
 */
export async function startStatusServer(
  options: { host: string; port: number; log: Logger; limits?: StatusServerLimits },
  sources: StatusSources,
): Promise<StatusServer> {
  const log = options.log.child({ component: "status" });
  const limits = options.limits ?? STATUS_SERVER_LIMITS;
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkEveryMs,
      // Requests here are a line and a few headers; Node's default allows 16 KiB of them.
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => {
      handle(req, res, sources).catch((error: unknown) => {
        log.error({ error: messageOf(error) }, "status request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  capPerAddress(server, limits.maxConnectionsPerAddress, log);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      server.off("error", reject);
      // A later server error (e.g. out of file descriptors on accept) is logged, never an uncaught
      // exception that would end the agent and leave its model server holding the GPU.
      server.on("error", (error) => log.error({ error: error.message }, "status endpoint error"));
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  log.info({ host: address, port }, "status endpoint listening");
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { host: address, port, endpoint: `${address}:${port}`, close, [Symbol.asyncDispose]: close };
}

async function handle(req: IncomingMessage, res: ServerResponse, sources: StatusSources): Promise<void> {
  const path = new URL(req.url ?? "/", "http://worker").pathname;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
    return;
  }
  if (path === HEALTH_PATH) {
    const ok = sources.healthy();
    res.writeHead(ok ? 200 : 503, { "content-type": "text/plain", "cache-control": "no-store" }).end(ok ? "ok\n" : "not serving (model server not healthy, or draining)\n");
    return;
  }
  if (path === STATUS_PATH) {
    const body = peerSafe(JSON.stringify(await sources.document()));
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(body);
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" }).end(`not found; try ${STATUS_PATH} or ${HEALTH_PATH}\n`);
}

/** Closes a connection at once when its address already holds `max`; says so once per burst, at warn. */
function capPerAddress(server: Server, max: number, log: Logger): void {
  const open = new Map<string, number>();
  let refusedSinceLog = 0;
  server.on("connection", (socket) => {
    const address = socket.remoteAddress ?? "unknown";
    const count = open.get(address) ?? 0;
    if (count >= max) {
      if (refusedSinceLog++ === 0) log.warn({ address, max }, "status endpoint: too many connections from one address; closing the extra ones");
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
      if (open.size === 0) refusedSinceLog = 0;
    });
  });
}
