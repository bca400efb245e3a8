import { httpRequest, type HttpLimits } from "../core/http-client.js";

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

/**
 * The client's deadline (its signal, on its clock; 2 s at most today) is what times an exchange
 * out; these phase limits sit just above it, a backstop that never changes which verdict a
 * silence gets. Real IMDS answers are a few KiB; a bigger one is not IMDS.
 */
export const IMDS_LIMITS: HttpLimits = { connectTimeoutMs: 3000, headersTimeoutMs: 3000, bodyTimeoutMs: 3000, maxBytes: 256 * 1024 };

/** The shared client (src/core/http-client.ts): no connection reuse, so no socket keeps a short CLI alive. */
export const httpTransport: ImdsTransport = (req, signal) => httpRequest({ ...req, limits: IMDS_LIMITS, signal });
