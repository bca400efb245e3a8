import type { Agent } from "undici";

/**
 * The one HTTP client of the worker and of the context detection: peers' /status, the model
 * server's /health, /metrics and /v1/models, IMDS. Every exchange runs under limits, so no answer
 * can hang a worker (a peer that accepts and never answers, one that sends headers and then drips)
 * or flood it (a peer's or an imposter's endless body):
 * - `connectTimeoutMs`: TCP connect;
 * - `headersTimeoutMs`: from the request sent to the last header received;
 * - `bodyTimeoutMs`: the longest pause between two pieces of the body;
 * - `maxBytes`: the body's size; past it the connection is cut (a Content-Length over it is
 *   refused before reading anything);
 * - `signal`: the caller's own deadline for the whole exchange (wall time or a test clock's).
 * No connection is reused: probes are seconds apart, a pooled socket to a peer that died only turns
 * the next ask into a stale-socket error, and an idle socket must not keep a short CLI alive.
 */
export interface HttpLimits {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxBytes: number;
}

export interface HttpExchange {
  method: "GET" | "PUT";
  url: string;
  headers?: Record<string, string>;
  limits: HttpLimits;
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** Which limit an exchange hit. The message names the address and the limit. */
export type HttpLimitKind = "connect-timeout" | "headers-timeout" | "body-timeout" | "too-large" | "deadline";

export class HttpLimitError extends Error {
  constructor(
    readonly kind: HttpLimitKind,
    readonly url: string,
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${DESCRIBE[kind](limit)}`, options);
    this.name = "HttpLimitError";
  }
}

const DESCRIBE: Record<HttpLimitKind, (limit: number) => string> = {
  "connect-timeout": (ms) => `no connection within ${ms} ms`,
  "headers-timeout": (ms) => `no answer (headers) within ${ms} ms`,
  "body-timeout": (ms) => `the answer stalled for ${ms} ms`,
  "too-large": (bytes) => `answer larger than ${bytes} bytes`,
  deadline: (ms) => `no complete answer within ${ms} ms`,
};

/** undici's error codes for its own deadlines. */
const UNDICI_TIMEOUTS: Record<string, HttpLimitKind> = {
  UND_ERR_CONNECT_TIMEOUT: "connect-timeout",
  UND_ERR_HEADERS_TIMEOUT: "headers-timeout",
  UND_ERR_BODY_TIMEOUT: "body-timeout",
};

// Loaded on the first exchange, not at start-up: evaluating undici costs more CPU than starting Node
// itself (`synkti context` against a refusing IMDS: +38 ms user time, measured on a loaded 2-core
// machine), and most commands (--help, --version, a cached context) never speak HTTP.
let undici: Promise<typeof import("undici")> | undefined;
const loadUndici = () => (undici ??= import("undici"));

// One dispatcher per connect deadline (a dispatcher's, not a request's, setting); a handful exist.
const agents = new Map<number, Agent>();
function agentFor(lib: typeof import("undici"), connectTimeoutMs: number): Agent {
  let agent = agents.get(connectTimeoutMs);
  if (!agent) {
    // pipelining 0: no keep-alive, every exchange on its own connection, closed after it.
    agent = new lib.Agent({ connect: { timeout: connectTimeoutMs }, pipelining: 0 });
    agents.set(connectTimeoutMs, agent);
  }
  return agent;
}

export async function httpRequest(exchange: HttpExchange): Promise<HttpAnswer> {
  const { url, limits, signal } = exchange;
  signal?.throwIfAborted();
  const lib = await loadUndici();
  try {
    const response = await lib.request(url, {
      method: exchange.method,
      headers: exchange.headers ?? {},
      dispatcher: agentFor(lib, limits.connectTimeoutMs),
      headersTimeout: limits.headersTimeoutMs,
      bodyTimeout: limits.bodyTimeoutMs,
      reset: true,
      ...(signal ? { signal } : {}),
    });
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(response.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : (value as string | undefined);
    const declared = Number(headers["content-length"]);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      response.body.destroy();
      throw new HttpLimitError("too-large", url, limits.maxBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limits.maxBytes) {
        response.body.destroy();
        throw new HttpLimitError("too-large", url, limits.maxBytes);
      }
      chunks.push(chunk);
    }
    return { status: response.statusCode, headers, body: Buffer.concat(chunks).toString("utf8") };
  } catch (error) {
    // The caller's deadline or cancellation wins over whatever the aborted socket said.
    if (signal?.aborted) throw signal.reason;
    if (error instanceof HttpLimitError) throw error;
    const kind = UNDICI_TIMEOUTS[(error as { code?: string } | undefined)?.code ?? ""];
    if (kind) {
      const limit = kind === "connect-timeout" ? limits.connectTimeoutMs : kind === "headers-timeout" ? limits.headersTimeoutMs : limits.bodyTimeoutMs;
      throw new HttpLimitError(kind, url, limit, { cause: error });
    }
    // A refused or reset connection: undici passes the socket's error (its `code`, e.g. ECONNREFUSED) through.
    throw error;
  }
}

/**
 * A GET under one deadline `timeoutMs` (wall time: it bounds real I/O, not a schedule), for the
 * worker's asks of peers and probes of its model server. Half of it at most to connect (inside a
 * VPC or on the host a connection takes a millisecond; a peer whose kernel does not answer by
 * then is gone), the rest for the headers and the body.
 */
export async function httpGet(
  url: string,
  options: { timeoutMs: number; maxBytes: number; signal?: AbortSignal; headers?: Record<string, string> },
): Promise<HttpAnswer> {
  const ms = options.timeoutMs;
  const deadline = AbortSignal.timeout(ms);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  try {
    return await httpRequest({
      method: "GET",
      url,
      headers: { "user-agent": "synkti-worker", ...options.headers },
      limits: { connectTimeoutMs: Math.max(1, Math.ceil(ms / 2)), headersTimeoutMs: ms, bodyTimeoutMs: ms, maxBytes: options.maxBytes },
      signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (deadline.aborted) throw new HttpLimitError("deadline", url, ms, { cause: error });
    throw error;
  }
}
