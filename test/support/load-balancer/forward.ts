/**
 * Forwards one client request to one target and streams the answer back, as ALB does:
 * - both directions stream (the request body as it arrives; the response chunk by chunk, headers
 *   flushed at once), so server-sent events reach the client token by token;
 * - headers pass unchanged (Authorization and Host included) except hop-by-hop ones; ALB's
 *   X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id are added;
 * - the target failing before its response headers (refused, reset, closed) is a 502 to the
 *   client; failing after the body started cuts the client's connection (no status can be sent);
 * - the client leaving aborts the target's request, so vLLM frees the slot;
 * - `cut()` ends the exchange at once, both ways (a draining target's delay ran out).
 * One fresh connection a request (no keep-alive pool): a pooled socket the target closed while idle
 * would turn into spurious 502s, a race real ALBs avoid with long target keep-alives.
 */
import http from "node:http";
import { randomBytes } from "node:crypto";
import type { Endpoint } from "./health-check.js";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

/** ALB's own error pages (it answers with `Server: awselb/2.0`). */
export function answerError(res: http.ServerResponse, status: 502 | 503 | 504): void {
  if (res.headersSent) return void res.destroy();
  const text = { 502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out" }[status];
  const body = `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n</body>\r\n</html>\r\n`;
  res.writeHead(status, { server: "awselb/2.0", "content-type": "text/html", "content-length": Buffer.byteLength(body), connection: "close" }).end(body);
}

function passHeaders(raw: string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const value = raw[i + 1]!;
    const known = headers[name];
    headers[name] = known === undefined ? value : Array.isArray(known) ? [...known, value] : [known, value];
  }
  return headers;
}

export interface Exchange {
  /** Resolves when the exchange is over, however it ended. */
  readonly done: Promise<void>;
  cut(): void;
}

export function forward(req: http.IncomingMessage, res: http.ServerResponse, target: Endpoint, listenerPort: number): Exchange {
  const headers = passHeaders(req.rawHeaders);
  const client = req.socket.remoteAddress ?? "127.0.0.1";
  const forwardedFor = headers["x-forwarded-for"];
  headers["x-forwarded-for"] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-port"] = String(listenerPort);
  headers["x-amzn-trace-id"] = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;

  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const upstream = http.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers, agent: false }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, passHeaders(answer.rawHeaders));
    res.flushHeaders(); // SSE clients see the status before the first token
    answer.pipe(res);
    // The target dying mid-body: no status left to send, so the client's stream is cut, like ALB.
    answer.on("close", () => void (answer.complete || res.destroy()));
    answer.on("error", () => res.destroy());
  });
  upstream.on("error", () => answerError(res, 502)); // refused/reset before headers: 502; after: cut
  req.pipe(upstream);
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy(); // the client left or was cut: abort the target's request
    finish();
  });
  return {
    done,
    cut: () => {
      upstream.destroy();
      res.destroy();
    },
  };
}
