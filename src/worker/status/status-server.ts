import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../core/log.js";
// One path for the load balancer's health check (infra/ configures it) and the endpoint that answers it.
import { HEALTH_PATH } from "../../infra/load-balancer-settings.js";
import { STATUS_PATH } from "../../cluster/peer-client.js";
import type { StatusDocument } from "../../cluster/status-document.js";

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
 * The worker's status endpoint: GET /status (JSON) and GET /healthz (200/503, for a load balancer's
 * target health check). Bound to one address (the instance's local-ipv4), never 0.0.0.0: peers and
 * the load balancer reach it there, and nothing else on the machine needs it.
 */
export async function startStatusServer(options: { host: string; port: number; log: Logger }, sources: StatusSources): Promise<StatusServer> {
  const log = options.log.child({ component: "status" });
  const server = createServer((req, res) => {
    handle(req, res, sources).catch((error: unknown) => {
      log.error({ error: error instanceof Error ? error.message : String(error) }, "status request failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
    });
  });
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
    const body = JSON.stringify(await sources.document());
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(body);
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" }).end(`not found; try ${STATUS_PATH} or ${HEALTH_PATH}\n`);
}
