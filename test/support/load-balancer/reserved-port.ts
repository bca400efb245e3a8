/**
 * A port kept for a load balancer that does not exist yet, so the local cloud can print its URL
 * (SYNKTI_ENDPOINT_URL) before `synkti infra up` creates it.
 *
 * Behaviour spec:
 * - `holdPort(port, name)` listens on 127.0.0.1:`port` (0: a free one; `port` says which) and
 *   answers every request 503 with a plain-text body saying that load balancer `name` does not
 *   exist in the local cloud (yet, or any more) and the header `x-synkti-local-cloud:
 *   no-load-balancer`, so a request sent too early is told why instead of being refused.
 * - `close()` stops listening and drops open connections; the port is then free for the stand-in.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { LOOPBACK } from "../free-port.js";

export interface PortHold {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function holdPort(port: number, name: string): Promise<PortHold> {
  const body = `503: the load balancer ${name} does not exist in this local cloud (not yet, or not any more); its stand-in starts here once it does (synkti infra up).\n`;
  const server = http.createServer((_req, res) => {
    res.writeHead(503, { "content-type": "text/plain", "content-length": Buffer.byteLength(body), "x-synkti-local-cloud": "no-load-balancer", connection: "close" }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${LOOPBACK}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
