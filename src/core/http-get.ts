import { request } from "node:http";

export interface HttpAnswer {
  status: number;
  body: string;
}

/** Status documents and /metrics are small; a huge answer is not what was asked for. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * One GET with a hard timeout, for the agent's local and peer probes (model server /health and
 * /metrics, peers' /status). node:http without keep-alive (`agent: false`): probes are seconds
 * apart, and a pooled socket to a peer that died would only turn the next probe into a stale-socket
 * error. The timeout is wall time on purpose: it bounds real I/O, not a schedule.
 */
export function httpGet(url: string, options: { timeoutMs: number; signal?: AbortSignal; headers?: Record<string, string> }): Promise<HttpAnswer> {
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
  return new Promise<HttpAnswer>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const req = request(url, { method: "GET", agent: false, signal, headers: { "user-agent": "synkti-worker", ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          res.destroy(new Error(`answer from ${url} larger than ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    });
    req.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    req.end();
  });
}
