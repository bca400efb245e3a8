import net from "node:net";
import { Readable } from "node:stream";
import tls from "node:tls";
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from "@smithy/types";
import { AwsNoAnswer, type AwsDeadlines } from "./deadlines.js";
import { endpointOf, explain } from "./http-handler.js";

/**
 * An HTTP/1.1 handler for the SDK that reads each answer into one buffer per connection, reused
 * for every read (Node's `onread`), for large bodies read once: the weights fetch's ranged GETs.
 * Node's own HTTP client allocates a buffer per socket read and wraps each in stream machinery:
 * measured here at 0.4-0.5 s of CPU per 300 MiB received, against 0.08 s this way, on a worker
 * whose cores are needed for SHA-256 and on a bench that shares them with the endpoint.
 *
 * The SDK builds and signs the request as usual (ExpectedBucketOwner, SigV4, retries up to the
 * answer's headers); this only moves bytes. One connection per request, closed after its answer
 * (a GET of 64 MiB amortises a TCP or TLS handshake many times over). The body is a Readable (the
 * SDK needs one), whose async iterator yields views into the connection's buffer without copying
 * (over TLS, copies: see LeanBody): each view is valid until the consumer asks for the next one
 * (the connection is paused between), so a consumer must hash, write or copy it before that. Reading it as a stream ('data', pipe: the
 * SDK's error parser) gets copies instead.
 *
 * Deadlines as the SDK's handler (http-handler.ts): connect, answer (the headers) and idle (no
 * byte for idleMs, also mid-body); a missed one is AwsNoAnswer naming it and the endpoint.
 */
export function createLeanHttpHandler(deadlines: AwsDeadlines, tlsOptions: Pick<tls.ConnectionOptions, "ca"> = {}) {
  return {
    metadata: { handlerProtocol: "http/1.1" },
    handle: (request: HttpRequest, options: HttpHandlerOptions = {}) => exchange(request, options.abortSignal as AbortSignal | undefined, deadlines, tlsOptions),
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
    destroy: () => {},
  };
}

/** Bytes read from the socket at once: one buffer per connection, reused. */
const READ_BUFFER = 1 << 20;
/** Headers larger than this are not S3's: refused (and never buffered without bound). */
const MAX_HEAD = 64 << 10;

/** One request and its answer on a connection of its own; `tlsOptions` (tests: a CA of their own) add to the TLS defaults. */
function exchange(request: HttpRequest, signal: AbortSignal | undefined, deadlines: AwsDeadlines, tlsOptions: Pick<tls.ConnectionOptions, "ca">): Promise<{ response: HttpResponse }> {
  const endpoint = endpointOf(request);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    // GETs only: a body (an upload) would need Expect: 100-continue and streaming that this does not do.
    if (request.body !== undefined && request.body !== null) return reject(new Error(`the lean HTTP handler sends no request bodies (${request.method} ${request.path})`));
    const body = new LeanBody();
    let head: Buffer | undefined = Buffer.alloc(0);
    let answered = false;
    const fail = (error: unknown) => {
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      const explained = explain(error, endpoint, deadlines);
      if (answered) body.fail(explained as Error);
      else reject(explained);
    };
    const onAbort = () => fail(signal!.reason);
    const onread = {
      buffer: Buffer.allocUnsafe(READ_BUFFER),
      callback: (n: number, buffer: Buffer): boolean => {
        if (answered) return body.deliver(buffer.subarray(0, n));
        head = Buffer.concat([head!, buffer.subarray(0, n)]); // the head is small: copied until complete
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > MAX_HEAD) fail(new Error(`the answer's headers exceed ${MAX_HEAD} bytes`));
          return true;
        }
        const parsed = parseHead(head.subarray(0, end).toString("latin1"));
        if (!parsed) {
          fail(new Error("the answer is not HTTP/1.1"));
          return false;
        }
        const rest = head.subarray(end + 4);
        head = undefined;
        answered = true;
        clearTimeout(answerTimer);
        body.start(socket, parsed.length, request.protocol === "https:");
        resolve({ response: { statusCode: parsed.status, reason: parsed.reason, headers: parsed.headers, body } });
        return rest.length > 0 ? body.deliver(Buffer.from(rest)) : true;
      },
    };
    const port = request.port ?? (request.protocol === "https:" ? 443 : 80);
    const socket: net.Socket =
      request.protocol === "https:"
        ? tls.connect({ ...tlsOptions, host: request.hostname, port, servername: net.isIP(request.hostname) ? undefined : request.hostname, onread } as tls.ConnectionOptions)
        : net.connect({ host: request.hostname, port, onread });
    const connectTimer = setTimeout(() => fail(new AwsNoAnswer(endpoint, "connect", deadlines.connectMs)), deadlines.connectMs);
    const answerTimer = deadlines.answerMs > 0 ? setTimeout(() => fail(new AwsNoAnswer(endpoint, "answer", deadlines.answerMs)), deadlines.answerMs) : undefined;
    socket.once(request.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
    socket.setTimeout(deadlines.idleMs, () => fail(new AwsNoAnswer(endpoint, "idle", deadlines.idleMs)));
    socket.on("error", (error) => {
      clearTimeout(connectTimer);
      fail(error);
    });
    socket.on("close", () => {
      clearTimeout(connectTimer);
      signal?.removeEventListener("abort", onAbort);
      if (!answered) fail(connectionReset("the connection closed before an answer"));
      else body.connectionClosed();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.write(requestHead(request));
  });
}

/**
 * A connection that ended too early, as Node's own client reports it (ECONNRESET): the SDK's retry
 * strategy takes it for transient and the error mapping for an endpoint not reached (errors.ts).
 */
function connectionReset(message: string): Error {
  return Object.assign(new Error(`socket hang up: ${message}`), { code: "ECONNRESET" });
}

function requestHead(request: HttpRequest): string {
  const headers: Record<string, string> = { ...request.headers };
  const hasHost = Object.keys(headers).some((k) => k.toLowerCase() === "host");
  const host = request.port ? `${request.hostname}:${request.port}` : request.hostname;
  const lines = [`${request.method} ${request.path}${queryString(request.query)} HTTP/1.1`, ...(hasHost ? [] : [`host: ${host}`])];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push("connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** As the SDK's own handler encodes it: names and values URI-encoded, a null value as a bare name. */
function queryString(query: HttpRequest["query"]): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    const key = encodeURIComponent(name);
    if (value === null) parts.push(key);
    else for (const one of Array.isArray(value) ? value : [value]) parts.push(`${key}=${encodeURIComponent(one)}`);
  }
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

function parseHead(text: string): { status: number; reason: string; headers: Record<string, string>; length: number | undefined } | undefined {
  const [statusLine, ...lines] = text.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine ?? "");
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) return undefined; // S3 answers with a length
  const length = headers["content-length"] === undefined ? undefined : Number(headers["content-length"]);
  return { status: Number(status[1]), reason: status[2] ?? "", headers, length: Number.isSafeInteger(length) ? length : undefined };
}

/**
 * The answer's body. Iterated (`for await`), it hands out views into the connection's read buffer
 * and keeps the connection paused until the next view is asked for; read as a stream, copies.
 * Until one of the two begins, what arrives is kept (copied) and the connection paused.
 */
class LeanBody extends Readable {
  private socket: net.Socket | undefined;
  /** Bytes still to come (undefined: until the connection closes). */
  private left: number | undefined;
  private mode: "waiting" | "iterating" | "streaming" = "waiting";
  /** Copies of what came before the reader began; then, while iterating, the one view not yet taken. */
  private queued: Buffer[] = [];
  private wake: (() => void) | undefined;
  private error: Error | undefined;
  private ended = false;
  /**
   * TLS hands over decrypted records into the buffer even while the connection is paused (seen:
   * the bytes of a view changed before it was consumed), so over TLS each piece is a copy.
   */
  private copyViews = false;

  start(socket: net.Socket, length: number | undefined, copyViews: boolean): void {
    this.socket = socket;
    this.left = length;
    this.copyViews = copyViews;
    if (length === 0) this.connectionDone();
  }

  /** A read's bytes of this body; returns whether the connection may read on. */
  deliver(view: Buffer): boolean {
    if (this.ended) return false;
    const take = this.left === undefined ? view : view.subarray(0, this.left);
    if (this.left !== undefined) this.left -= take.length;
    if (this.left === 0) this.socket?.destroy(); // connection: close; nothing else comes on it
    if (this.mode === "streaming") {
      this.push(Buffer.from(take)); // a stream reader keeps what it is given: a copy
      if (this.left === 0) this.connectionDone();
      return true;
    }
    this.queued.push(this.mode === "iterating" && !this.copyViews ? take : Buffer.from(take));
    this.wake?.();
    return false; // paused until the reader asks for more
  }

  /**
   * The connection failed (deadline, cut, abort). A reader gets the error when it reads: one that
   * never reads (a body refused unread and dropped) raises nothing that nobody would catch.
   */
  fail(error: Error): void {
    if (this.ended || this.error) return;
    this.error = error;
    this.wake?.();
    if (this.mode === "streaming") this.destroy(error);
  }

  /** The connection closed: the end of a body without a length, else an answer cut short. */
  connectionClosed(): void {
    if (this.ended) return;
    if (this.left !== undefined && this.left > 0) return this.fail(connectionReset(`the connection closed with ${this.left} bytes of the answer still to come`));
    this.connectionDone();
  }

  override _read(): void {
    if (this.mode === "waiting") {
      this.mode = "streaming";
      for (const early of this.queued.splice(0)) this.push(early);
      if (this.error) return void this.destroy(this.error);
      if (this.ended) this.push(null);
    }
    this.socket?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket?.destroy();
    callback(error);
  }

  override async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    this.mode = "iterating";
    try {
      for (;;) {
        const next = this.queued.shift();
        if (next) {
          yield next; // a view: valid until the consumer comes back for the next one
          if (this.queued.length === 0 && !this.ended) this.socket?.resume();
          continue;
        }
        if (this.error) throw this.error;
        if (this.ended) return;
        this.socket?.resume();
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.socket?.destroy();
      this.ended = true;
    }
  }

  private connectionDone(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake?.();
    if (this.mode === "streaming") this.push(null);
  }
}
