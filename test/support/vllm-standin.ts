/**
 * A stand-in for vLLM's OpenAI-compatible server (`vllm serve`), for machines without a GPU.
 *
 * Behaviour spec:
 * - Start-up: nothing listens until `startupDelayMs` has passed (connections are refused), then
 *   it serves. That is vLLM: `vllm serve` binds its socket early but only starts uvicorn (listen
 *   and answer) after the engine has loaded the model, tens of seconds for a 7B model. `ready`
 *   resolves once it listens; `url` is known at once (the port is chosen up front).
 * - `GET /health`: 200 with an empty body; 503 after `setEngineDead(true)` (vLLM's EngineDeadError).
 * - Names, as `vllm serve <path> --served-model-name <name>`: `model` is the served name (the only
 *   one a request may ask for), `modelPath` the weights' path (default: the served name, as vLLM
 *   serves under the path when no name is given).
 * - `GET /v1/models`: `{object:"list", data:[{id:<served name>, object:"model", created,
 *   owned_by:"vllm", root:<model path>, parent:null, max_model_len}]}`.
 * - `POST /v1/completions` and `/v1/chat/completions`: OpenAI/vLLM shapes (`text_completion`,
 *   `chat.completion`), `max_tokens` (default `tokens`) tokens " tok0 tok1 ...", usage counted in
 *   words. With `"stream": true`: server-sent events, one `data: {json}\n\n` chunk a token (chat:
 *   first a role chunk), the last with finish_reason, a usage chunk if
 *   `stream_options.include_usage`, then `data: [DONE]\n\n`. A request takes `latencyMs` in all,
 *   spread over its tokens when streaming, plus `tokenLatencyMs` a generated token (vLLM's decode time:
 *   a longer `max_tokens` takes longer; default 0). A `model` other than the served name (the path too,
 *   once a name is given): 404 `The model \`x\` does not exist.` (NotFoundError), as vLLM; no
 *   `model` at all: the served one. Bad JSON 400.
 * - Concurrency: at most `maxConcurrency` requests run (default unlimited); the rest wait.
 *   `GET /metrics` (Prometheus text) has `vllm:num_requests_running` / `vllm:num_requests_waiting`
 *   gauges and `vllm:request_success_total`, labelled `model_name`. A client that disconnects
 *   frees its slot at once, as vLLM aborts the request.
 * - API key, as vLLM's AuthenticationMiddleware: with `apiKeys` (vllm: `--api-key`, else the
 *   VLLM_API_KEY environment variable; the flag wins) every path starting with `/v1` needs
 *   `Authorization: Bearer <one of the keys>` (scheme case-insensitive), else 401 with the JSON body
 *   `{"error":"Unauthorized"}`; OPTIONS and every other path (`/health`, `/metrics`) are open.
 *   Without keys nothing is checked, as vLLM (it then serves anyone, silently).
 * - `close(graceMs)`: stops accepting, lets running/waiting requests finish (up to graceMs, then
 *   cuts them), like uvicorn's graceful shutdown on SIGTERM. Also `[Symbol.asyncDispose]`.
 * - Listens on 127.0.0.0/8 only (tests never listen elsewhere). `log` gets uvicorn-like lines,
 *   including "Uvicorn running on http://H:P (Press CTRL+C to quit)".
 */
import http from "node:http";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_MODEL_SERVER_COMMAND } from "../../src/worker/model-server/command-template.js";
import { assertLoopback, freePort, LOOPBACK } from "./free-port.js";

export interface VllmStandinOptions {
  host?: string;
  /** 0 or absent: a free port, chosen before the start-up delay. */
  port?: number;
  /** Served model name (vLLM: --served-model-name, else the model path). */
  model?: string;
  /** The weights' path (vLLM's positional model argument); shown as `root`. Default: `model`. */
  modelPath?: string;
  startupDelayMs?: number;
  latencyMs?: number;
  /** Added per generated token (decode time), so a request's duration grows with its max_tokens. */
  tokenLatencyMs?: number;
  /** Completion tokens when the request gives no max_tokens. */
  tokens?: number;
  maxConcurrency?: number;
  maxModelLen?: number;
  /** Keys a /v1 request may present (vLLM: --api-key or VLLM_API_KEY); none: no authentication. */
  apiKeys?: string[];
  log?: (line: string) => void;
}

export interface VllmStandin extends AsyncDisposable {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly model: string;
  /** Resolves once it listens (after the start-up delay); rejects if it cannot. */
  readonly ready: Promise<void>;
  inFlight(): number;
  waiting(): number;
  /** Requests answered to the end. */
  served(): number;
  setEngineDead(dead: boolean): void;
  close(graceMs?: number): Promise<void>;
}

type Json = Record<string, unknown>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const words = (value: unknown): number => (typeof value === "string" ? value.split(/\s+/).filter(Boolean).length : Array.isArray(value) ? value.reduce((n: number, v) => n + words(typeof v === "object" && v ? (v as Json).content : v), 0) : 0);
const errorBody = (message: string, type: string, code: number) => JSON.stringify({ object: "error", message, type, param: null, code });

export async function startVllmStandin(options: VllmStandinOptions = {}): Promise<VllmStandin> {
  const host = options.host ?? LOOPBACK;
  assertLoopback(host);
  const port = options.port || (await freePort(host));
  const model = options.model ?? "standin-model";
  const modelPath = options.modelPath ?? model;
  const log = options.log ?? (() => {});
  const latencyMs = options.latencyMs ?? 0;
  const tokenLatencyMs = options.tokenLatencyMs ?? 0;
  const created = Math.floor(Date.now() / 1000);
  let running = 0;
  let served = 0;
  let engineDead = false;
  let closing = false;
  const queue: (() => void)[] = [];
  const apiKeys = (options.apiKeys ?? []).filter(Boolean);
  const authorized = (header: string | undefined) => {
    const [scheme, ...rest] = (header ?? "").split(" ");
    return scheme?.toLowerCase() === "bearer" && apiKeys.includes(rest.join(" "));
  };
  const active = new Set<http.ServerResponse>();

  /** Takes a running slot, or waits for one; false if the client left while waiting. */
  const acquire = (res: http.ServerResponse) =>
    new Promise<boolean>((resolve) => {
      if (options.maxConcurrency === undefined || running < options.maxConcurrency) {
        running += 1;
        return resolve(true);
      }
      const wake = () => {
        res.off("close", abandon);
        running += 1;
        resolve(true);
      };
      const abandon = () => {
        const at = queue.indexOf(wake);
        if (at >= 0) queue.splice(at, 1);
        resolve(false);
      };
      queue.push(wake);
      res.once("close", abandon);
    });
  const release = () => {
    running -= 1;
    queue.shift()?.();
  };

  const metrics = () => {
    const label = `model_name="${model}"`;
    const gauge = (name: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}{engine="0",${label}} ${value.toFixed(1)}\n`;
    return gauge("vllm:num_requests_running", "Number of requests in model execution batches.", running) +
      gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", queue.length) +
      `# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\nvllm:request_success_total{engine="0",${label}} ${served.toFixed(1)}\n`;
  };

  const generate = async (req: http.IncomingMessage, res: http.ServerResponse, chat: boolean) => {
    let body: Json;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json;
    } catch {
      return res.writeHead(400, { "content-type": "application/json" }).end(errorBody("Invalid JSON body", "BadRequestError", 400));
    }
    if (body.model !== undefined && body.model !== model) {
      return res.writeHead(404, { "content-type": "application/json" }).end(errorBody(`The model \`${String(body.model)}\` does not exist.`, "NotFoundError", 404));
    }
    if (!(await acquire(res))) return;
    let released = false;
    const done = () => void (released || ((released = true), release()));
    res.on("close", done); // a disconnect aborts the request and frees its slot
    if (res.destroyed) done();
    const count = typeof body.max_tokens === "number" ? body.max_tokens : options.tokens ?? 16;
    const finish = typeof body.max_tokens === "number" ? "length" : "stop";
    const id = `${chat ? "chatcmpl" : "cmpl"}-${randomBytes(16).toString("hex")}`;
    const stamp = Math.floor(Date.now() / 1000);
    const envelope = (object: string) => ({ id, object, created: stamp, model }); // vLLM's field order
    const promptTokens = words(chat ? body.messages : body.prompt);
    const usage = { prompt_tokens: promptTokens, total_tokens: promptTokens + count, completion_tokens: count, prompt_tokens_details: null };
    const token = (i: number) => ` tok${i}`;
    const choice = (content: string, finishReason: string | null, first = false) =>
      chat
        ? { index: 0, delta: first ? { role: "assistant", content: "" } : { content }, logprobs: null, finish_reason: finishReason, stop_reason: null }
        : { index: 0, text: content, logprobs: null, finish_reason: finishReason, stop_reason: null };

    if (body.stream === true) {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
      const send = (data: unknown) => res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
      const chunk = envelope(chat ? "chat.completion.chunk" : "text_completion");
      if (chat) send({ ...chunk, choices: [choice("", null, true)] });
      for (let i = 0; i < count; i++) {
        await sleep(latencyMs / Math.max(count, 1) + tokenLatencyMs);
        if (res.destroyed) return;
        send({ ...chunk, choices: [choice(token(i), i === count - 1 ? finish : null)] });
      }
      const streamOptions = body.stream_options as Json | undefined;
      if (streamOptions?.include_usage === true) send({ ...chunk, choices: [], usage });
      send("[DONE]");
      served += 1;
      return res.end();
    }
    await sleep(latencyMs + tokenLatencyMs * count);
    if (res.destroyed) return;
    const text = Array.from({ length: count }, (_, i) => token(i)).join("");
    const answer = chat
      ? { index: 0, message: { role: "assistant", content: text, tool_calls: [] }, logprobs: null, finish_reason: finish, stop_reason: null }
      : { index: 0, text, logprobs: null, finish_reason: finish, stop_reason: null, prompt_logprobs: null };
    served += 1;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...envelope(chat ? "chat.completion" : "text_completion"), choices: [answer], usage }));
  };

  const server = http.createServer((req, res) => {
    active.add(res);
    res.on("close", () => {
      active.delete(res);
      log(`INFO:     ${req.socket.remoteAddress}:${req.socket.remotePort} - "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode}`);
    });
    const path = (req.url ?? "/").split("?")[0];
    const route = `${req.method} ${path}`;
    if (closing) return res.writeHead(503, { connection: "close" }).end();
    if (apiKeys.length > 0 && req.method !== "OPTIONS" && path?.startsWith("/v1") && !authorized(req.headers.authorization)) {
      return res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "Unauthorized" }));
    }
    if (route === "GET /health") return res.writeHead(engineDead ? 503 : 200).end();
    if (route === "GET /v1/models") {
      const card = { id: model, object: "model", created, owned_by: "vllm", root: modelPath, parent: null, max_model_len: options.maxModelLen ?? 4096, permission: [] };
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [card] }));
    }
    if (route === "GET /metrics") return res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(metrics());
    if (route === "POST /v1/completions" || route === "POST /v1/chat/completions") {
      return void generate(req, res, route.includes("chat")).catch(() => res.destroy());
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ detail: "Not Found" }));
  });

  log(`INFO:     Started server process [${process.pid}]`);
  let startupTimer: NodeJS.Timeout | undefined;
  let abortStartup = (_: Error) => {};
  const ready = new Promise<void>((resolve, reject) => {
    abortStartup = reject;
    startupTimer = setTimeout(() => {
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off("error", reject);
        if (closing) return void server.close(); // close() came while binding
        log("INFO:     Waiting for application startup.");
        log("INFO:     Application startup complete.");
        log(`INFO:     Uvicorn running on http://${host}:${port} (Press CTRL+C to quit)`);
        resolve();
      });
    }, options.startupDelayMs ?? 0);
  });
  ready.catch(() => {}); // callers that never await ready must not crash on a late failure

  let closingPromise: Promise<void> | undefined;
  const close = (graceMs = 5000) =>
    (closingPromise ??= (async () => {
      closing = true;
      clearTimeout(startupTimer);
      if (!server.listening) abortStartup(new Error("closed before start-up finished"));
      log("INFO:     Shutting down");
      const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      server.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (active.size > 0 && Date.now() < deadline) await sleep(20);
      server.closeAllConnections();
      for (const res of active) res.destroy();
      await stopped;
      log(`INFO:     Finished server process [${process.pid}]`);
    })());

  return {
    url: `http://${host}:${port}`,
    host,
    port,
    model,
    ready,
    inFlight: () => running,
    waiting: () => queue.length,
    served: () => served,
    setEngineDead: (dead) => void (engineDead = dead),
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

/** vLLM flags that take no value, so `--enforce-eager <model>` keeps the model positional. */
const BOOLEAN_FLAGS = new Set(["enforce-eager", "trust-remote-code", "disable-log-requests", "disable-log-stats", "enable-prefix-caching", "enable-chunked-prefill"]);

/** `vllm serve`-style arguments: `--name value`, `--name=value`, bare `--flag`, and positionals. */
export function parseServeArgs(argv: string[]): { positionals: string[]; flags: Map<string, string> } {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) flags.set(name, inline);
    else if (next !== undefined && !next.startsWith("--") && !BOOLEAN_FLAGS.has(name)) flags.set(name, argv[++i]!);
    else flags.set(name, "true");
  }
  return { positionals, flags };
}

/**
 * The model-server command for the worker (`--model-server-command`): Node with tsx's loader and the
 * stand-in's main, by absolute paths so it runs from any folder. The template takes the arguments of
 * synkti's default `vllm serve ...` command, so the stand-in is run exactly as vLLM would be; tune
 * with SYNKTI_STANDIN_* variables.
 */
export function vllmStandinCommand(): string {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const main = fileURLToPath(new URL("./vllm-standin-main.ts", import.meta.url));
  const parts = [process.execPath, "--import", tsx, main, "serve"];
  if (parts.some((part) => /\s/.test(part))) throw new Error(`a path has whitespace; the command template cannot carry it: ${parts.join(" ")}`);
  return parts.join(" ");
}

export const vllmStandinCommandTemplate = () => `${vllmStandinCommand()} ${DEFAULT_MODEL_SERVER_COMMAND.replace(/^vllm serve /, "")}`;
