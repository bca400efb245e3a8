import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpGet, HttpLimitError, httpRequest, type HttpLimits } from "../../../src/core/http-client.js";
import { closedPort } from "../../support/free-port.js";

/**
 * The worker's one HTTP client (peers, IMDS, the model server): every phase has a deadline, the
 * body a size cap, and no socket outlives an exchange. Each test plays a misbehaving server on
 * 127.0.0.1 and expects the named limit, well before any test timeout.
 */
const LIMITS: HttpLimits = { connectTimeoutMs: 300, headersTimeoutMs: 300, bodyTimeoutMs: 300, maxBytes: 64 * 1024 };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<net.Socket>();
  const server = createServer(handler);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

async function limitHit(promise: Promise<unknown>): Promise<{ error: HttpLimitError; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => {
      throw new Error("expected the exchange to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpLimitError);
  return { error: error as HttpLimitError, ms: Date.now() - started };
}

describe("one HTTP client with limits", () => {
  it("answers: status, headers and body; the connection is closed after it (nothing pooled)", async () => {
    const server = await serve((req, res) => res.writeHead(201, { "x-seen": req.method ?? "" }).end("hello"));
    const answer = await httpRequest({ method: "PUT", url: `${server.url}/x`, limits: LIMITS });
    expect(answer).toMatchObject({ status: 201, body: "hello", headers: { "x-seen": "PUT" } });
    await expect.poll(() => server.sockets.size, { timeout: 2000 }).toBe(0);
  });

  it("a server that accepts and never answers: headers deadline", async () => {
    const server = await serve(() => {});
    const { error, ms } = await limitHit(httpRequest({ method: "GET", url: `${server.url}/status`, limits: LIMITS }));
    expect(error.kind).toBe("headers-timeout");
    expect(error.message).toBe(`${server.url}/status: no answer (headers) within 300 ms`);
    expect(ms).toBeLessThan(3000);
  });

  it("a server that sends headers, then drips nothing more: body deadline", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"role":');
    });
    const { error, ms } = await limitHit(httpRequest({ method: "GET", url: `${server.url}/status`, limits: LIMITS }));
    expect(error.kind).toBe("body-timeout");
    expect(ms).toBeLessThan(3000);
  });

  it("an endless body is cut at the cap (the server sees its connection closed); a Content-Length over it is refused unread", async () => {
    let sent = 0;
    const flood = await serve((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 120);
      const pump = () => {
        while (!res.destroyed && sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed && sent < 64 * 1024 * 1024) res.once("drain", pump);
      };
      pump();
    });
    const { error } = await limitHit(httpRequest({ method: "GET", url: flood.url, limits: LIMITS }));
    expect(error).toMatchObject({ kind: "too-large", message: `${flood.url}: answer larger than 65536 bytes` });
    await expect.poll(() => flood.sockets.size, { timeout: 2000 }).toBe(0);
    expect(sent).toBeLessThan(8 * 1024 * 1024);

    const declared = await serve((_req, res) => res.writeHead(200, { "content-length": String(10 * 1024 * 1024) }).write("x"));
    expect((await limitHit(httpRequest({ method: "GET", url: declared.url, limits: LIMITS }))).error.kind).toBe("too-large");
  });

  it("an address whose accept queue is full (the SYN is never answered): connect deadline", async () => {
    // python's listen(0) never accepts: one connection fills its queue, the next one hangs in SYN.
    const listener: ChildProcess = spawn("python3", ["-c", "import socket,sys\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()"], { stdio: ["pipe", "pipe", "inherit"] });
    cleanups.push(() => void listener.kill());
    const port = Number(await new Promise<string>((resolve) => listener.stdout!.once("data", (d: Buffer) => resolve(String(d).trim()))));
    const filler = net.connect(port, "127.0.0.1");
    cleanups.push(() => void filler.destroy());
    await new Promise((resolve) => filler.once("connect", resolve));
    const { error, ms } = await limitHit(httpRequest({ method: "GET", url: `http://127.0.0.1:${port}/`, limits: LIMITS }));
    expect(error.kind).toBe("connect-timeout");
    expect(ms).toBeLessThan(3000);
  });

  it("a refused connection keeps its socket error code; the caller's abort wins with its own reason", async () => {
    const port = await closedPort();
    await expect(httpRequest({ method: "GET", url: `http://127.0.0.1:${port}/`, limits: LIMITS })).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const server = await serve(() => {});
    const controller = new AbortController();
    const reason = new Error("stopping");
    setTimeout(() => controller.abort(reason), 50);
    await expect(httpRequest({ method: "GET", url: server.url, limits: { ...LIMITS, headersTimeoutMs: 10_000 }, signal: controller.signal })).rejects.toBe(reason);
  });

  it("httpGet: one deadline for the whole exchange, however slowly the body drips", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("x"), 50); // never idle for its body deadline
      res.on("close", () => clearInterval(timer));
    });
    const { error, ms } = await limitHit(httpGet(server.url, { timeoutMs: 400, maxBytes: 1024 }));
    expect(error.kind).toBe("deadline");
    expect(error.message).toBe(`${server.url}: no complete answer within 400 ms`);
    expect(ms).toBeLessThan(3000);
  });
});
