/**
 * A bucket-policy shim in front of moto (or of the fault proxy), for tests that need a SAFE
 * preflight. Why: moto ignores a policy's Condition and denies as if it matched, so infra's
 * `DenyInsecureTransport` statement (Deny s3:* when aws:SecureTransport is false) makes moto refuse
 * every object read and write, while AWS refuses only plain-http ones. Preflight must see the
 * hardened policy AND read the binary and weights; on AWS both hold, on bare moto never.
 *
 * Behaviour spec:
 * - Listens on 127.0.0.1 (random port); point AWS_ENDPOINT_URL at `url`.
 * - `PUT /<bucket>?policy` stores the body for that bucket and answers 204; moto never sees it.
 *   `GET /<bucket>?policy` answers the stored document (200), or forwards when none is stored
 *   (moto then answers NoSuchBucketPolicy). `DELETE /<bucket>?policy` forgets it and answers 204.
 * - Everything else is forwarded verbatim (Host header included: the SDK signs it).
 * - `policies()` shows what is stored; `close()`/asyncDispose stops it.
 * Move to test/support when a second capability needs it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface PolicyShim extends AsyncDisposable {
  readonly url: string;
  policies(): Record<string, string>;
  close(): Promise<void>;
}

const POLICY_PATH = /^\/([^/?]+)\/?\?policy(?:=|&|$)/;

export async function startPolicyShim(options: { target: string }): Promise<PolicyShim> {
  const target = new URL(options.target);
  const stored = new Map<string, string>();
  const agent = new http.Agent({ keepAlive: true });

  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent });
    upstream.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    const bucket = POLICY_PATH.exec(req.url ?? "")?.[1];
    if (bucket === undefined) return forward(req, res);
    if (req.method === "GET" && !stored.has(bucket)) return forward(req, res);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "PUT") stored.set(bucket, Buffer.concat(chunks).toString("utf8"));
      if (req.method === "DELETE") stored.delete(bucket);
      if (req.method === "GET") return res.writeHead(200, { "content-type": "application/json" }).end(stored.get(bucket));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    }));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    policies: () => Object.fromEntries(stored),
    close,
    [Symbol.asyncDispose]: close,
  };
}
