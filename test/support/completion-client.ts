/**
 * The client of issue 10's "no failed request": what a careful user of the endpoint does, so tests
 * can count failures by the issue's definition.
 *
 * Behaviour spec:
 * - `complete(url, body, options)` POSTs `body` (JSON) to `<url>/v1/completions` with
 *   `Authorization: Bearer <apiKey>` when a key is given, one fresh connection per attempt (no
 *   keep-alive pool: a pooled socket closed while idle would be a client-made failure).
 * - It retries once, and only when the connection was refused or a 502/503 status arrived (a status
 *   comes before any byte of the body). Anything else ends it: another status, a timeout
 *   (`timeoutMs`, default 30 s, for the whole request), a reset, a cut stream.
 * - The result says `ok` (200 and the body ended normally: a JSON body that parses, or a stream that
 *   ended with `data: [DONE]`), the final `status` (undefined when none came), each attempt's
 *   outcome, the body, when it started and ended (ms since epoch), and `error` when not ok.
 * - Only loopback URLs (tests talk to 127.0.0.0/8 only).
 */
import http from "node:http";
import { isLoopback } from "./free-port.js";

export interface CompletionResult {
  ok: boolean;
  status: number | undefined;
  /** Each attempt: a status, or an error code (ECONNREFUSED, ECONNRESET, timeout, cut). */
  attempts: string[];
  body: string;
  startedAt: number;
  endedAt: number;
  error?: string;
}

export interface CompleteOptions {
  apiKey?: string;
  timeoutMs?: number;
}

type Attempt = { status: number; body: string; complete: boolean } | { error: string; beforeResponse: boolean };

function attempt(url: URL, payload: string, headers: Record<string, string>, deadline: number): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Attempt) => void (settled || ((settled = true), clearTimeout(timer), resolve(a)));
    let answered = false;
    const request = http.request({ host: url.hostname, port: url.port || 80, method: "POST", path: `${url.pathname.replace(/\/$/, "")}/v1/completions`, headers, agent: false }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => done({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), complete: response.complete }));
      response.on("error", () => done({ error: "cut", beforeResponse: false }));
      response.on("close", () => void (response.complete || done({ error: "cut", beforeResponse: false })));
    });
    const timer = setTimeout(() => {
      done({ error: "timeout", beforeResponse: !answered });
      request.destroy();
    }, Math.max(0, deadline - Date.now()));
    request.on("error", (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message, beforeResponse: !answered }));
    request.end(payload);
  });
}

const RETRIABLE_STATUS = new Set([502, 503]);

/** One completion, by the rule: at most one retry, only on a refused connection or 502/503. */
export async function complete(baseUrl: string, body: Record<string, unknown>, options: CompleteOptions = {}): Promise<CompletionResult> {
  const url = new URL(baseUrl);
  if (!isLoopback(url.hostname)) throw new Error(`tests only talk to 127.0.0.0/8, not ${url.hostname}`);
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const startedAt = Date.now();
  const deadline = startedAt + (options.timeoutMs ?? 30_000);
  const attempts: string[] = [];
  for (let n = 1; ; n++) {
    const a = await attempt(url, payload, headers, deadline);
    attempts.push("status" in a ? String(a.status) : a.error);
    const retriable = "status" in a ? RETRIABLE_STATUS.has(a.status) : a.error === "ECONNREFUSED" && a.beforeResponse;
    if (retriable && n === 1) continue;
    const endedAt = Date.now();
    if (!("status" in a)) return { ok: false, status: undefined, attempts, body: "", startedAt, endedAt, error: a.error };
    const finished = a.complete && (body.stream === true ? /data: \[DONE\]\n\n$/.test(a.body) : parses(a.body));
    const ok = a.status === 200 && finished;
    return { ok, status: a.status, attempts, body: a.body, startedAt, endedAt, ...(ok ? {} : { error: a.status === 200 ? "incomplete body" : `HTTP ${a.status}` }) };
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Steady traffic: `concurrency` loops each sending one completion after another until `stop()`;
 * `stop()` waits for the requests in flight and returns every result, in start order.
 */
export function steadyTraffic(baseUrl: string, body: Record<string, unknown>, options: CompleteOptions & { concurrency: number; pauseMs?: number }) {
  const results: CompletionResult[] = [];
  let stopping = false;
  const loops = Array.from({ length: options.concurrency }, async () => {
    while (!stopping) {
      results.push(await complete(baseUrl, body, options));
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  });
  return {
    results: () => [...results].sort((a, b) => a.startedAt - b.startedAt),
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      return [...results].sort((a, b) => a.startedAt - b.startedAt);
    },
  };
}
