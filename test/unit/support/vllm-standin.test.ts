/**
 * The vLLM stand-in, in process: each line of its behaviour spec.
 */
import { describe, expect, it } from "vitest";
import { until as poll } from "../../support/until.js";
import { parseServeArgs, startVllmStandin, vllmStandinCommand, vllmStandinCommandTemplate, type VllmStandin } from "../../support/vllm-standin.js";

const json = { "content-type": "application/json" };
const post = (standin: VllmStandin, path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${standin.url}${path}`, { method: "POST", headers: json, body: typeof body === "string" ? body : JSON.stringify(body), signal });
const gauge = async (standin: VllmStandin, name: string) => {
  const text = await (await fetch(`${standin.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`));
  return Number(line?.split(" ").pop());
};
const until = (check: () => Promise<boolean> | boolean) => poll("the stand-in's counters", check, 2000, 10);
/** Reads an SSE body event by event, noting when each arrived. */
const readEvents = async (response: Response) => {
  const events: { data: string; at: number }[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      events.push({ data: buffer.slice(0, end).replace(/^data: /, ""), at: Date.now() });
      buffer = buffer.slice(end + 2);
    }
  }
  return events;
};

describe("vLLM stand-in", () => {
  it("refuses connections during start-up, then is healthy (vLLM serves only once the engine is up)", async () => {
    await using standin = await startVllmStandin({ startupDelayMs: 300 });
    expect(standin.url).toBe(`http://127.0.0.1:${standin.port}`);
    await expect(fetch(`${standin.url}/health`)).rejects.toMatchObject({ cause: { code: "ECONNREFUSED" } });
    await standin.ready;
    const health = await fetch(`${standin.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("");
  });

  it("lists its model like vLLM", async () => {
    await using standin = await startVllmStandin({ model: "meta-llama/Llama-3.1-8B-Instruct" });
    await standin.ready;
    const models = await (await fetch(`${standin.url}/v1/models`)).json();
    expect(models).toMatchObject({ object: "list", data: [{ id: "meta-llama/Llama-3.1-8B-Instruct", object: "model", owned_by: "vllm", root: "meta-llama/Llama-3.1-8B-Instruct" }] });
  });

  it("answers to its served name only, as vllm serve <path> --served-model-name <name> does", async () => {
    await using standin = await startVllmStandin({ model: "tiny", modelPath: "/models/tiny" });
    await standin.ready;
    const models = await (await fetch(`${standin.url}/v1/models`)).json();
    expect(models.data).toEqual([expect.objectContaining({ id: "tiny", root: "/models/tiny" })]);
    const named = await post(standin, "/v1/completions", { model: "tiny", prompt: "x", max_tokens: 1 });
    expect(named.status).toBe(200);
    expect(await named.json()).toMatchObject({ model: "tiny" });
    const byPath = await post(standin, "/v1/completions", { model: "/models/tiny", prompt: "x" });
    expect(byPath.status).toBe(404);
    expect(await byPath.json()).toEqual({ object: "error", message: "The model `/models/tiny` does not exist.", type: "NotFoundError", param: null, code: 404 });
    expect((await post(standin, "/v1/chat/completions", { model: "other", messages: [{ role: "user", content: "x" }] })).status).toBe(404);
    expect((await post(standin, "/v1/completions", { prompt: "x", max_tokens: 1 })).status).toBe(200); // no model: the served one
  });

  it("completes without streaming: text_completion, max_tokens tokens, usage", async () => {
    await using standin = await startVllmStandin({ tokens: 5 });
    await standin.ready;
    const limited = await (await post(standin, "/v1/completions", { model: "standin-model", prompt: "one two three", max_tokens: 3 })).json();
    expect(limited).toMatchObject({
      id: expect.stringMatching(/^cmpl-/),
      object: "text_completion",
      created: expect.any(Number),
      model: "standin-model",
      choices: [{ index: 0, text: " tok0 tok1 tok2", logprobs: null, finish_reason: "length" }],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
    const open = (await (await post(standin, "/v1/completions", { prompt: "x" })).json()) as { choices: unknown[] };
    expect(open.choices[0]).toMatchObject({ text: " tok0 tok1 tok2 tok3 tok4", finish_reason: "stop" });
    expect(standin.served()).toBe(2);
  });

  it("streams server-sent events: one chunk a token over the latency, usage, then [DONE]", async () => {
    await using standin = await startVllmStandin({ latencyMs: 200 });
    await standin.ready;
    const started = Date.now();
    const response = await post(standin, "/v1/completions", { prompt: "hi", max_tokens: 4, stream: true, stream_options: { include_usage: true } });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readEvents(response);
    expect(events.map((e) => e.data).at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(5);
    expect(chunks.slice(0, 4).map((c) => c.choices[0].text).join("")).toBe(" tok0 tok1 tok2 tok3");
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, "length", undefined]);
    expect(chunks[0]).toMatchObject({ object: "text_completion", model: "standin-model", id: chunks[3].id });
    expect(chunks[4]).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    // Tokens arrive over time, not all at the end (loose bounds: shared CPUs).
    expect(events[0]!.at - started).toBeLessThan(events.at(-1)!.at - started);
    expect(events.at(-1)!.at - started).toBeGreaterThanOrEqual(150);
  });

  it("takes tokenLatencyMs a generated token, so a longer max_tokens takes longer (vLLM's decode time)", async () => {
    await using standin = await startVllmStandin({ tokenLatencyMs: 40 });
    await standin.ready;
    const timed = async (body: Record<string, unknown>) => {
      const started = Date.now();
      const response = await post(standin, "/v1/completions", { prompt: "x", ...body });
      await response.text();
      return Date.now() - started;
    };
    expect(await timed({ max_tokens: 1 })).toBeLessThan(400);
    expect(await timed({ max_tokens: 10 })).toBeGreaterThanOrEqual(400);
    const started = Date.now();
    const events = await readEvents(await post(standin, "/v1/completions", { prompt: "x", max_tokens: 10, stream: true }));
    expect(events).toHaveLength(11);
    expect(events[0]!.at - started).toBeLessThan(events.at(-1)!.at - started - 200); // token by token, not at the end
    expect(events.at(-1)!.at - started).toBeGreaterThanOrEqual(400);
  });

  it("serves chat completions, plain and streamed (role chunk first, then deltas)", async () => {
    await using standin = await startVllmStandin();
    await standin.ready;
    const messages = [{ role: "user", content: "hello there" }];
    const plain = await (await post(standin, "/v1/chat/completions", { messages, max_tokens: 2 })).json();
    expect(plain).toMatchObject({ object: "chat.completion", choices: [{ message: { role: "assistant", content: " tok0 tok1" }, finish_reason: "length" }], usage: { prompt_tokens: 2 } });
    const events = await readEvents(await post(standin, "/v1/chat/completions", { messages, max_tokens: 2, stream: true }));
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.map((c) => c.choices[0].delta)).toEqual([{ role: "assistant", content: "" }, { content: " tok0" }, { content: " tok1" }]);
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(events.at(-1)!.data).toBe("[DONE]");
  });

  it("shows an in-flight slow request in vllm:num_requests_running, then counts it as a success", async () => {
    await using standin = await startVllmStandin({ latencyMs: 400, model: "m" });
    await standin.ready;
    expect(await gauge(standin, "vllm:num_requests_running")).toBe(0);
    const slow = post(standin, "/v1/completions", { prompt: "x", max_tokens: 1 });
    await until(async () => (await gauge(standin, "vllm:num_requests_running")) === 1);
    expect(standin.inFlight()).toBe(1);
    expect(await (await fetch(`${standin.url}/metrics`)).text()).toContain('vllm:num_requests_running{engine="0",model_name="m"} 1.0');
    expect((await slow).status).toBe(200);
    expect(await gauge(standin, "vllm:num_requests_running")).toBe(0);
    expect(await gauge(standin, "vllm:request_success_total")).toBe(1);
  });

  it("queues beyond maxConcurrency (num_requests_waiting); disconnects free running and waiting slots", async () => {
    await using standin = await startVllmStandin({ latencyMs: 5000, maxConcurrency: 1 });
    await standin.ready;
    const first = new AbortController();
    const second = new AbortController();
    const requests = [post(standin, "/v1/completions", { prompt: "a", stream: true }, first.signal), post(standin, "/v1/completions", { prompt: "b" }, second.signal)];
    requests.forEach((r) => r.catch(() => {}));
    await until(() => standin.inFlight() === 1 && standin.waiting() === 1);
    expect(await gauge(standin, "vllm:num_requests_waiting")).toBe(1);
    second.abort();
    await until(() => standin.waiting() === 0);
    first.abort();
    await until(() => standin.inFlight() === 0);
  });

  it("answers errors like vLLM: unknown model 404, bad JSON 400, unknown path 404, dead engine 503", async () => {
    await using standin = await startVllmStandin();
    await standin.ready;
    const unknown = await post(standin, "/v1/completions", { model: "other", prompt: "x" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ object: "error", type: "NotFoundError", code: 404, message: expect.stringContaining("other") });
    expect((await post(standin, "/v1/completions", "{not json")).status).toBe(400);
    expect((await fetch(`${standin.url}/nope`)).status).toBe(404);
    standin.setEngineDead(true);
    expect((await fetch(`${standin.url}/health`)).status).toBe(503);
  });

  it("closes gracefully: in-flight requests finish, then connections are refused", async () => {
    const standin = await startVllmStandin({ latencyMs: 300 });
    await standin.ready;
    const inFlight = post(standin, "/v1/completions", { prompt: "x", max_tokens: 1 });
    await until(() => standin.inFlight() === 1);
    await standin.close();
    expect((await inFlight).status).toBe(200);
    await expect(fetch(`${standin.url}/health`)).rejects.toThrow();
  });

  it("closed during start-up never listens; ready rejects", async () => {
    const standin = await startVllmStandin({ startupDelayMs: 10_000 });
    await standin.close();
    await expect(standin.ready).rejects.toThrow(/closed before start-up/);
    await expect(fetch(`${standin.url}/health`)).rejects.toThrow();
  });

  it("listens on other loopback addresses, never elsewhere", async () => {
    await using standin = await startVllmStandin({ host: "127.0.0.7" });
    await standin.ready;
    expect((await fetch(`http://127.0.0.7:${standin.port}/health`)).status).toBe(200);
    await expect(startVllmStandin({ host: "0.0.0.0" })).rejects.toThrow(/127\.0\.0\.0\/8/);
    await expect(startVllmStandin({ host: "0.0.0.0", port: 8000 })).rejects.toThrow(/127\.0\.0\.0\/8/);
  });
});

describe("command line", () => {
  it("with an API key: /v1 needs Authorization: Bearer <key> (else 401 {\"error\":\"Unauthorized\"}); /health and /metrics stay open", async () => {
    await using standin = await startVllmStandin({ apiKeys: ["k-0123456789"] });
    await standin.ready;
    const models = (headers: Record<string, string> = {}) => fetch(`${standin.url}/v1/models`, { headers });
    const refused = await models();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "Unauthorized" });
    expect((await models({ authorization: "Bearer wrong-key-000" })).status).toBe(401);
    expect((await models({ authorization: "Basic k-0123456789" })).status).toBe(401);
    expect((await models({ authorization: "bearer k-0123456789" })).status).toBe(200);
    expect((await post(standin, "/v1/completions", { prompt: "hi" })).status).toBe(401);
    expect((await fetch(`${standin.url}/v1/completions`, { method: "POST", headers: { ...json, authorization: "Bearer k-0123456789" }, body: "{}" })).status).toBe(200);
    expect((await fetch(`${standin.url}/health`)).status).toBe(200);
    expect((await fetch(`${standin.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${standin.url}/v1/models`, { method: "OPTIONS" })).status).not.toBe(401);
  });

  it("parses vllm serve arguments, ignoring flags it does not know", () => {
    const { positionals, flags } = parseServeArgs(["serve", "/models/m", "--host", "127.0.0.2", "--port=8001", "--enforce-eager", "--gpu-memory-utilization", "0.9", "--trust-remote-code"]);
    expect(positionals).toEqual(["serve", "/models/m"]);
    expect(Object.fromEntries(flags)).toEqual({ host: "127.0.0.2", port: "8001", "enforce-eager": "true", "gpu-memory-utilization": "0.9", "trust-remote-code": "true" });
    expect(parseServeArgs(["--enforce-eager", "/models/m"]).positionals).toEqual(["/models/m"]);
  });

  it("gives a command template with absolute paths for the worker", () => {
    expect(vllmStandinCommand()).toMatch(/^\/\S+ --import file:\/\/\/\S+ \/\S+\/test\/support\/vllm-standin-main\.ts serve$/);
    // The arguments of synkti's default `vllm serve ...`, so the worker runs it as it runs vLLM.
    expect(vllmStandinCommandTemplate()).toMatch(/ serve \{model_dir\} --served-model-name \{model\} --host \{host\} --port \{port\}$/);
  });
});
