/**
 * The load balancer stand-in in process, fed by a test's own source instead of moto, in front of
 * real vLLM stand-ins on loopback: routing, health, draining, 502/503 and streaming, each a line of
 * its behaviour spec. Times: the group's seconds divided by TIME_SCALE.
 */
import net from "node:net";
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startLoadBalancerStandin, type LoadBalancerStandin, type TargetPurpose } from "../../support/load-balancer-standin.js";
import type { LoadBalancerView, TargetGroupSettings } from "../../support/load-balancer/moto-elbv2.js";
import { until as poll } from "../../support/until.js";
import { startVllmStandin, type VllmStandin, type VllmStandinOptions } from "../../support/vllm-standin.js";

const TIME_SCALE = 5; // interval 2 s -> 400 ms, timeout 1 s -> 200 ms
const group = (overrides: Partial<TargetGroupSettings> = {}): TargetGroupSettings => ({
  arn: "arn:tg",
  name: "tg",
  port: 8000,
  healthCheck: { path: "/health", port: 8080, intervalSeconds: 2, timeoutSeconds: 1, healthyThreshold: 2, unhealthyThreshold: 2, matcher: "200" },
  deregistrationDelaySeconds: 10,
  algorithm: "least_outstanding_requests",
  ...overrides,
});
const until = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000) => poll(what, check, timeoutMs, 20);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** A fleet of vLLM stand-ins as "instances" i-0, i-1, ..., and a load balancer whose listing the test controls. */
async function setup(count: number, options: VllmStandinOptions = {}, settings: Partial<TargetGroupSettings> = {}) {
  const servers = new Map<string, { host: string; port: number; vllm?: VllmStandin }>();
  for (let i = 0; i < count; i++) {
    const vllm = await startVllmStandin({ latencyMs: 50, ...options });
    cleanup.push(() => vllm.close(0));
    await vllm.ready;
    servers.set(`i-${i}`, { host: vllm.host, port: vllm.port, vllm });
  }
  const view: LoadBalancerView = { targetGroup: group(settings), targets: [...servers.keys()].map((instanceId) => ({ instanceId, port: 8000 })) };
  const asked: [string, number, TargetPurpose][] = [];
  const lb = await startLoadBalancerStandin({
    name: "unit-lb",
    source: async () => structuredClone(view),
    // The local cloud's case: traffic port and health-check port of an instance both map to its server.
    resolve: (instanceId, port, purpose) => {
      asked.push([instanceId, port, purpose]);
      const server = servers.get(instanceId);
      return server && { host: server.host, port: server.port };
    },
    pollIntervalMs: 100,
    timeScale: TIME_SCALE,
  });
  cleanup.push(() => lb.close());
  const allHealthy = () => until("every target healthy", () => lb.targets().length === count && lb.targets().every((t) => t.state === "healthy"));
  return { lb, view, servers, asked, allHealthy };
}

const complete = (lb: LoadBalancerStandin, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  fetch(`${lb.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ prompt: "hi", max_tokens: 3, ...body }) });

/** The client: one try, and one retry only when refused or a 502/503 arrives before any body. */
async function clientRequest(lb: LoadBalancerStandin): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await complete(lb);
    } catch (error) {
      if (attempt === 1 && (error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED") continue;
      throw error;
    }
    if (attempt === 1 && (response.status === 502 || response.status === 503)) {
      await response.arrayBuffer();
      continue;
    }
    if (response.status !== 200) throw new Error(`failed request: HTTP ${response.status}`);
    return ((await response.json()) as { choices: { text: string }[] }).choices[0]!.text;
  }
}

describe("load balancer stand-in", () => {
  it("starts targets initial, routes only once they pass the healthy threshold, checking the group's health-check port", async () => {
    const started = Date.now();
    const { lb, asked, allHealthy } = await setup(1);
    expect(lb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(lb.targets()).toEqual([expect.objectContaining({ instanceId: "i-0", port: 8000, state: "initial" })]);
    expect((await complete(lb)).status).toBe(503);
    await allHealthy();
    // Healthy after the 2nd check, one interval (400 ms) after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(asked).toContainEqual(["i-0", 8080, "health-check"]);
    const response = await complete(lb, {}, { authorization: "Bearer k" });
    expect(response.status).toBe(200);
    expect(asked).toContainEqual(["i-0", 8000, "traffic"]);
    expect(lb.requests()).toEqual({ "i-0": 1 });
  });

  it("spreads requests over 3 vLLM stand-ins, preferring the one with the fewest outstanding", async () => {
    const { lb, servers, allHealthy } = await setup(3, { latencyMs: 30 });
    await allHealthy();
    const texts = await Promise.all(Array.from({ length: 30 }, () => clientRequest(lb)));
    expect(texts.every((t) => t === " tok0 tok1 tok2")).toBe(true);
    const served = [...servers.values()].map((s) => s.vllm!.served());
    expect(served.every((n) => n > 0)).toBe(true);
    expect(Object.values(lb.requests()).reduce((x, y) => x + y, 0)).toBe(30);

    // A request whose body is still coming holds a target: the sequential short ones that follow all go elsewhere.
    const before = lb.requests();
    const held = http.request(`${lb.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" } });
    const heldAnswer = new Promise<number>((resolve) => held.on("response", (r) => (r.resume(), resolve(r.statusCode ?? 0))));
    held.write('{"prompt": "hi", ');
    const busy = await until("the held request routed", () => Object.keys(lb.requests()).find((id) => lb.requests()[id] !== before[id]));
    const busyCount = lb.requests()[busy];
    for (let i = 0; i < 6; i++) await clientRequest(lb);
    expect(lb.requests()[busy]).toBe(busyCount);
    held.end('"max_tokens": 2}');
    expect(await heldAnswer).toBe(200);
  });

  it("passes the target's status back, and Authorization, Host and the body on to the target, with ALB's X-Forwarded headers", async () => {
    const { lb, servers, allHealthy } = await setup(1, { model: "m" });
    await allHealthy();
    const missing = await complete(lb, { model: "other" });
    expect(missing.status).toBe(404); // vLLM's own answer, not the load balancer's
    expect(await missing.json()).toMatchObject({ object: "error", type: "NotFoundError" });

    // Behind the healthy target's address from now on: a server that records what reaches it.
    const seen: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const echo = http.createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += String(chunk);
      seen.push({ headers: req.headers, body });
      res.writeHead(401, { "content-type": "application/json", "x-from-target": "yes" }).end('{"error":"Unauthorized"}');
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => echo.close(() => resolve())));
    servers.get("i-0")!.port = (echo.address() as net.AddressInfo).port;
    const answer = await complete(lb, {}, { authorization: "Bearer secret-key" });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("x-from-target")).toBe("yes");
    expect(await answer.json()).toEqual({ error: "Unauthorized" });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers).toMatchObject({
      authorization: "Bearer secret-key",
      host: new URL(lb.url).host,
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-proto": "http",
      "x-forwarded-port": String(new URL(lb.url).port),
      "x-amzn-trace-id": expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/),
    });
    expect(JSON.parse(seen[0]!.body)).toEqual({ prompt: "hi", max_tokens: 3 });
  });

  it("a killed target stops getting requests within the unhealthy threshold; after that no request fails", async () => {
    const { lb, servers, allHealthy } = await setup(3);
    await allHealthy();
    const killed = servers.get("i-1")!.vllm!;
    const killedAt = Date.now();
    await killed.close(0);
    // Traffic meanwhile: some requests may meet the dead target (502, retried once by the client).
    const during: Promise<string>[] = [];
    await until("the killed target unhealthy", () => {
      during.push(clientRequest(lb).catch(() => "failed before detection"));
      return lb.targets().find((t) => t.instanceId === "i-1")?.state === "unhealthy";
    });
    const detectedMs = Date.now() - killedAt;
    // At most the unhealthy threshold of intervals (plus a timeout and a loaded machine's slack).
    expect(detectedMs).toBeLessThan(2 * 400 + 200 + 1500);
    expect(lb.targets().find((t) => t.instanceId === "i-1")).toMatchObject({ reason: "Target.FailedHealthChecks", description: expect.stringContaining("ECONNREFUSED") });
    await Promise.allSettled(during);
    const sentToKilled = lb.requests()["i-1"];
    const after = await Promise.all(Array.from({ length: 20 }, () => clientRequest(lb)));
    expect(after).toHaveLength(20);
    expect(lb.requests()["i-1"]).toBe(sentToKilled);
  });

  it("a deregistered target drains: in-flight requests finish, new ones go elsewhere, then it is gone", async () => {
    const { lb, view, servers, allHealthy } = await setup(2, { latencyMs: 1500 });
    await allHealthy();
    const slow = complete(lb, { stream: true, max_tokens: 5 });
    const holder = await until("the request in flight", () => [...servers].find(([, s]) => s.vllm!.inFlight() > 0)?.[0]);
    view.targets = view.targets.filter((t) => t.instanceId !== holder);
    await lb.sync();
    expect(lb.targets().find((t) => t.instanceId === holder)).toMatchObject({ state: "draining", reason: "Target.DeregistrationInProgress" });
    const others = await Promise.all([complete(lb), complete(lb)]);
    expect(others.map((r) => r.status)).toEqual([200, 200]);
    expect(lb.requests()[holder]).toBe(1);
    const finished = await (await slow).text();
    expect(finished).toMatch(/tok4[\s\S]*data: \[DONE\]/);
    await until("the drained target gone", () => !lb.targets().some((t) => t.instanceId === holder));
  });

  it("the deregistration delay running out cuts a request still in flight", async () => {
    const { lb, view, allHealthy } = await setup(1, { latencyMs: 5000 }, { deregistrationDelaySeconds: 1 }); // 200 ms
    await allHealthy();
    const response = await complete(lb, { stream: true, max_tokens: 50 });
    expect(response.status).toBe(200);
    view.targets = [];
    await lb.sync();
    await expect(response.text()).rejects.toThrow();
    expect(lb.targets()).toEqual([]);
  });

  it("answers 503 with no healthy target, and 503 again once the only target is unhealthy", async () => {
    const { lb, servers, allHealthy } = await setup(1);
    expect((await complete(lb)).status).toBe(503); // still initial
    await allHealthy();
    servers.get("i-0")!.vllm!.setEngineDead(true);
    await until("the target unhealthy", () => lb.targets()[0]?.state === "unhealthy");
    expect(lb.targets()[0]).toMatchObject({ reason: "Target.ResponseCodeMismatch", description: "Health checks failed with these codes: [503]" });
    const response = await complete(lb);
    expect(response.status).toBe(503);
    expect(response.headers.get("server")).toBe("awselb/2.0");
    expect(await response.text()).toContain("503 Service Temporarily Unavailable");
  });

  it("answers 502 when the target resets before its response headers; cuts the client's stream when it dies mid-body", async () => {
    const { lb, servers, allHealthy } = await setup(1);
    await allHealthy();
    // Behind the healthy target's address from now on: a server that breaks every request.
    let mode: "reset" | "mid-body" = "reset";
    const breaker = net.createServer((socket) => {
      socket.once("data", () => {
        if (mode === "reset") return void socket.resetAndDestroy();
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n6\r\ndata: \r\n");
        setTimeout(() => socket.resetAndDestroy(), 50);
      });
    });
    await new Promise<void>((resolve) => breaker.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => breaker.close(() => resolve())));
    servers.get("i-0")!.port = (breaker.address() as net.AddressInfo).port;
    const reset = await complete(lb);
    expect(reset.status).toBe(502);
    expect(await reset.text()).toContain("502 Bad Gateway");
    mode = "mid-body";
    const cut = await complete(lb, { stream: true });
    expect(cut.status).toBe(200);
    await expect(cut.text()).rejects.toThrow();
  });

  it("streams server-sent events token by token, not buffered", async () => {
    const { lb, allHealthy } = await setup(1, { latencyMs: 1000 });
    await allHealthy();
    const response = await complete(lb, { stream: true, max_tokens: 5 });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const arrivals: number[] = [];
    const decoder = new TextDecoder();
    let text = "";
    for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(bytes, { stream: true });
      arrivals.push(Date.now());
    }
    expect(text).toMatch(/tok0[\s\S]*tok4[\s\S]*data: \[DONE\]\n\n$/);
    // 5 tokens over 1 s: the first arrives long before the last.
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(500);
  });

  it("never reaches beyond 127.0.0.0/8: a target resolved elsewhere never turns healthy", async () => {
    const lines: string[] = [];
    const lb = await startLoadBalancerStandin({
      source: async () => ({ targetGroup: group(), targets: [{ instanceId: "i-far", port: 8000 }] }),
      resolve: () => "10.0.0.5",
      timeScale: TIME_SCALE,
      log: (line) => lines.push(line),
    });
    cleanup.push(() => lb.close());
    await until("the target unhealthy", () => lb.targets()[0]?.state === "unhealthy");
    expect(lb.targets()[0]?.description).toMatch(/refused to reach 10\.0\.0\.5:8080.*127\.0\.0\.0\/8/);
    expect(lines.filter((l) => l.includes("refused to reach 10.0.0.5"))).toHaveLength(1); // said once, not every check
    expect((await complete(lb)).status).toBe(503);
  });
});
