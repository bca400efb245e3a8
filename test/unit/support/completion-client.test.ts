/**
 * The "no failed request" client: one retry only on a refused connection or a 502/503; anything
 * else (another status, a cut stream, a timeout) is a failure.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { complete } from "../../support/completion-client.js";
import { closedPort } from "../../support/free-port.js";
import { startVllmStandin } from "../../support/vllm-standin.js";

/** A server answering each request with the next of `answers` (a status, or "cut": headers then a reset mid-body). */
async function scripted(answers: Array<number | "cut">) {
  const seen: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    const next = answers.shift() ?? 200;
    if (next === "cut") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: {}\n\n");
      return setTimeout(() => res.destroy(), 20);
    }
    res.writeHead(next, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("completion client", () => {
  it("succeeds on a vLLM answer, plain and streamed to [DONE], sending the key", async () => {
    await using vllm = await startVllmStandin({ apiKeys: ["k"] });
    await vllm.ready;
    expect(await complete(vllm.url, { prompt: "x", max_tokens: 2 }, { apiKey: "k" })).toMatchObject({ ok: true, status: 200, attempts: ["200"] });
    expect(await complete(vllm.url, { prompt: "x", max_tokens: 2, stream: true }, { apiKey: "k" })).toMatchObject({ ok: true, attempts: ["200"] });
    expect(await complete(vllm.url, { prompt: "x", max_tokens: 2 })).toMatchObject({ ok: false, status: 401, attempts: ["401"], error: "HTTP 401" });
  });

  it("retries once on 502 or 503, never on another status, and fails when the retry fails too", async () => {
    await using once = await scripted([503, 200]);
    expect(await complete(once.url, { prompt: "x" }, { apiKey: "k" })).toMatchObject({ ok: true, attempts: ["503", "200"] });
    expect(once.seen).toEqual(["Bearer k", "Bearer k"]);
    await using twice = await scripted([502, 503]);
    expect(await complete(twice.url, { prompt: "x" })).toMatchObject({ ok: false, status: 503, attempts: ["502", "503"] });
    await using other = await scripted([500, 200]);
    expect(await complete(other.url, { prompt: "x" })).toMatchObject({ ok: false, status: 500, attempts: ["500"] });
  });

  it("retries a refused connection once; a stream cut after it started is a failure, not retried", async () => {
    const refused = await complete(`http://127.0.0.1:${await closedPort()}`, { prompt: "x" });
    expect(refused).toMatchObject({ ok: false, attempts: ["ECONNREFUSED", "ECONNREFUSED"], error: "ECONNREFUSED" });
    await using cut = await scripted(["cut", 200]);
    const result = await complete(cut.url, { prompt: "x", stream: true });
    expect(result.ok).toBe(false);
    expect(result.attempts).toHaveLength(1);
  });
});
