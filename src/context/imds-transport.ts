import { request } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ImdsRequest {
  method: "GET" | "PUT";
  url: string;
  headers: Record<string, string>;
}

export interface ImdsResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** One HTTP exchange; must give up when `signal` aborts (the client's deadline). Injectable for tests. */
export type ImdsTransport = (req: ImdsRequest, signal: AbortSignal) => Promise<ImdsResponse>;

/** Real IMDS answers are a few KiB; a bigger one is not IMDS, and reading it all would be wasted time. */
const MAX_BODY_BYTES = 256 * 1024;

export class BodyTooLarge extends Error {
  constructor() {
    super(`answer larger than ${MAX_BODY_BYTES} bytes`);
    this.name = "BodyTooLarge";
  }
}

/**
 * node:http with no connection reuse (`agent: false`), so a finished or abandoned exchange leaves no
 * socket that keeps a short-lived CLI alive. Timeouts come from the caller's signal.
 */
export const httpTransport: ImdsTransport = (req, signal) =>
  new Promise<ImdsResponse>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const send = req.url.startsWith("https:") ? httpsRequest : request;
    const outgoing = send(req.url, { method: req.method, headers: req.headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          res.destroy();
          reject(new BodyTooLarge());
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => {
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(res.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : value;
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    });
    // An abort surfaces as an AbortError; report the signal's reason (e.g. DeadlineExceeded) instead.
    outgoing.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    outgoing.end();
  });
