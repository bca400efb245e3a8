import type { ZodType } from "zod";
import { DeadlineExceeded, systemClock, withDeadline, type Clock } from "../core/clock.js";
import { ImdsError } from "./imds-error.js";
import { HttpLimitError } from "../core/http-client.js";
import { httpTransport, type ImdsResponse, type ImdsTransport } from "./imds-transport.js";
import { messageOf } from "../core/errors.js";

export const TOKEN_PATH = "/latest/api/token";
const TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER = "x-aws-ec2-metadata-token";
/** IMDSv2 tokens are opaque base64 (about 56 characters); HTML or prose in their place is not IMDS. */
const TOKEN_SHAPE = /^[A-Za-z0-9+/=_-]{8,1024}$/;

export interface ImdsClientOptions {
  /** Base URL, e.g. http://169.254.169.254 (see imdsSettingsFromEnv). */
  endpoint: string;
  clock?: Clock;
  transport?: ImdsTransport;
  /** Deadline of each HTTP exchange. */
  timeoutMs?: number;
  /** Lifetime asked for each token; AWS allows 1..21600 s. */
  tokenTtlSeconds?: number;
}

export interface ImdsCallOptions {
  signal?: AbortSignal;
  /** Overrides the client's per-request deadline for this call (and the token it may need). */
  timeoutMs?: number;
}

/**
 * An IMDSv2 client: one token (PUT /latest/api/token) cached until shortly before it expires, sent on
 * every GET; a 401 drops the token and retries once with a fresh one. Every exchange runs under a
 * deadline on the injected clock. Detection uses it once; the worker agent polls through it.
 */
export class ImdsClient {
  readonly endpoint: string;
  private readonly clock: Clock;
  private readonly transport: ImdsTransport;
  private readonly timeoutMs: number;
  private readonly ttlSeconds: number;
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(options: ImdsClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.clock = options.clock ?? systemClock;
    this.transport = options.transport ?? httpTransport;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.ttlSeconds = options.tokenTtlSeconds ?? 21600;
  }

  /** A valid token, from the cache or a new PUT; concurrent callers share one PUT (and its deadline). */
  async token(options: ImdsCallOptions = {}): Promise<string> {
    if (this.cached && this.clock.now() < this.cached.refreshAt) return this.cached.token;
    this.pending ??= this.fetchToken(options).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidateToken(): void {
    this.cached = undefined;
  }

  /** The body at `path` (e.g. /latest/meta-data/instance-id), or undefined when IMDS says 404. */
  async get(path: string, options: ImdsCallOptions = {}): Promise<string | undefined> {
    let response = await this.send("GET", path, { [TOKEN_HEADER]: await this.token(options) }, options);
    if (response.status === 401) {
      // Expired or revoked (e.g. IMDS restarted): one fresh token, then give up.
      this.invalidateToken();
      response = await this.send("GET", path, { [TOKEN_HEADER]: await this.token(options) }, options);
    }
    if (response.status === 200) return response.body;
    if (response.status === 404) return undefined;
    throw statusError(path, response.status);
  }

  /**
   * Like get, parsed as JSON and, with a schema, validated (e.g. the spot notice). A body that is not
   * JSON, or not of the schema's shape, is a bad answer, not a crash.
   */
  async getJson<T = unknown>(path: string, options: ImdsCallOptions & { schema?: ZodType<T> } = {}): Promise<T | undefined> {
    const body = await this.get(path, options);
    if (body === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw new ImdsError("bad-answer", path, `IMDS answered ${path} with something that is not JSON: ${preview(body)}`, {
        cause: error,
      });
    }
    if (!options.schema) return json as T;
    const parsed = options.schema.safeParse(json);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    throw new ImdsError("bad-answer", path, `IMDS answered ${path} with an unexpected shape (${issues})`, { cause: parsed.error });
  }

  private async fetchToken(options: ImdsCallOptions): Promise<string> {
    const startedAt = this.clock.now();
    const response = await this.send("PUT", TOKEN_PATH, { [TTL_HEADER]: String(this.ttlSeconds) }, options);
    if (response.status !== 200) throw statusError(TOKEN_PATH, response.status);
    const token = response.body.trim();
    if (!TOKEN_SHAPE.test(token)) {
      throw new ImdsError("bad-answer", TOKEN_PATH, `The token request was answered with something that is not an IMDSv2 token: ${preview(response.body)}`);
    }
    const granted = Number(response.headers[TTL_HEADER]);
    const ttlMs = (Number.isInteger(granted) && granted > 0 ? Math.min(granted, this.ttlSeconds) : this.ttlSeconds) * 1000;
    // Refresh a minute early (a tenth of the TTL for short ones) so a token never expires in flight.
    this.cached = { token, refreshAt: startedAt + ttlMs - Math.min(60_000, ttlMs / 10) };
    return token;
  }

  private async send(
    method: "GET" | "PUT",
    path: string,
    headers: Record<string, string>,
    options: ImdsCallOptions,
  ): Promise<ImdsResponse> {
    const ms = options.timeoutMs ?? this.timeoutMs;
    const url = `${this.endpoint}${path}`;
    try {
      return await withDeadline(
        this.clock,
        ms,
        `IMDS ${method} ${url}`,
        (signal) => this.transport({ method, url, headers: { "user-agent": "synkti", ...headers } }, signal),
        options.signal,
      );
    } catch (error) {
      if (options.signal?.aborted && !(error instanceof DeadlineExceeded)) throw options.signal.reason;
      throw transportError(error, method, url, ms);
    }
  }
}

function transportError(error: unknown, method: string, url: string, ms: number): ImdsError {
  const path = new URL(url).pathname;
  if (error instanceof ImdsError) return error;
  if (error instanceof DeadlineExceeded) {
    return new ImdsError("timeout", path, `IMDS at ${url} did not answer ${method} within ${ms} ms`, { cause: error });
  }
  if (error instanceof HttpLimitError) {
    if (error.kind === "too-large") return new ImdsError("bad-answer", path, `IMDS at ${url} sent an oversized answer (${error.message})`, { cause: error });
    // A phase limit (connect, headers, body) is a silence like the deadline's.
    return new ImdsError("timeout", path, `IMDS at ${url} did not answer ${method} (${error.message})`, { cause: error });
  }
  // Refused, reset, no route: whatever the socket error, nothing usable answers there.
  const code = (error as { code?: string } | undefined)?.code ?? "";
  const detail = messageOf(error);
  return new ImdsError("unreachable", path, `IMDS at ${url} is unreachable (${code || detail})`, { cause: error });
}

function statusError(path: string, status: number): ImdsError {
  if (status === 401) return new ImdsError("unauthorized", path, `IMDS refused ${path} with 401 even with a fresh token`, { status });
  if (status === 403) return new ImdsError("refused", path, `IMDS refused ${path} with 403 Forbidden`, { status });
  if (path === TOKEN_PATH && (status === 404 || status === 405)) {
    return new ImdsError("bad-answer", path, `The endpoint answered the IMDSv2 token request with ${status}: not IMDSv2`, { status });
  }
  return new ImdsError("http-error", path, `IMDS answered ${path} with HTTP ${status}`, { status });
}

function preview(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 60 ? `${flat.slice(0, 60)}...` : flat);
}
