/**
 * A hand-made recorded call, made by the SDK itself: the command is serialized exactly as it would
 * be sent (query parameters, path, headers), captured before it leaves, and named by the fault
 * proxy's own parser. So a fixture is the very request the code under test builds, not a guess.
 */
import type { HttpRequest } from "@smithy/types";
import { describeRequest } from "../fault-proxy.js";
import type { RecordedCall } from "./calls.js";

class Captured extends Error {
  constructor(readonly request: HttpRequest) {
    super("captured");
  }
}

export const captureHandler = {
  handle: async (request: HttpRequest): Promise<never> => {
    throw new Captured(request);
  },
};

/** Client options for a client whose requests are captured, never sent. */
export const captureClientConfig = {
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  endpoint: "http://127.0.0.1:9",
  forcePathStyle: true,
  maxAttempts: 1,
  requestHandler: captureHandler,
};

/** Sends `command` through `client` (built with captureClientConfig) and returns the call it would make. */
export async function capture(client: { send(command: never): Promise<unknown> }, command: unknown): Promise<RecordedCall> {
  try {
    await client.send(command as never);
  } catch (error) {
    if (!(error instanceof Captured)) throw error;
    const r = error.request;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(r.query ?? {})) for (const one of Array.isArray(v) ? v : [v ?? ""]) query.append(k, one ?? "");
    const url = `${r.path}${query.size > 0 ? `?${query}` : ""}`;
    const body = typeof r.body === "string" ? Buffer.from(r.body) : r.body instanceof Uint8Array ? Buffer.from(r.body) : undefined;
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const info = describeRequest(r.method, url, headers, body);
    return { action: info.action, params: info.params, path: info.path, headers: info.headers, method: info.method, ...(info.json !== undefined ? { json: info.json } : {}) };
  }
  throw new Error("capture: the command was sent");
}
