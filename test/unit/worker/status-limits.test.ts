import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { startStatusServer, STATUS_SERVER_LIMITS, type StatusServer, type StatusServerLimits } from "../../../src/worker/status/status-server.js";
import type { StatusDocument } from "../../../src/cluster/status-document.js";

/**
 * The status endpoint under a misbehaving client (issue 14 item 4): a slowloris (headers fed a
 * byte at a time) is cut at the headers deadline, and connections past the caps are closed at once,
 * so one broken or compromised peer cannot hold the others (or the load balancer) out.
 */
let server: StatusServer | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function start(limits?: StatusServerLimits): Promise<StatusServer> {
  server = await startStatusServer(
    { host: "127.0.0.1", port: 0, log: silentLogger, ...(limits ? { limits } : {}) },
    { healthy: () => true, document: async () => ({ role: "worker" }) as StatusDocument },
  );
  return server;
}

/** A raw connection from `from` (a loopback address), so the server sees distinct clients. */
async function connect(port: number, from: string): Promise<{ socket: net.Socket; received: () => string; closed: Promise<number> }> {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
  sockets.push(socket);
  let data = "";
  socket.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => data, closed };
}

/** GET /healthz on a fresh connection from `from`: the status line, or "closed" when cut unanswered. */
async function healthzFrom(port: number, from: string): Promise<string> {
  const c = await connect(port, from);
  c.socket.write("GET /healthz HTTP/1.1\r\nHost: worker\r\nConnection: close\r\n\r\n");
  await Promise.race([c.closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
  return c.received().split("\r\n")[0] || "closed";
}

describe("status endpoint limits", () => {
  it("a slowloris (a header line every 300 ms, never finished) is cut at the headers deadline; others are served meanwhile", async () => {
    const s = await start(); // the production limits: 5 s for the headers, checked every second
    const slow = await connect(s.port, "127.0.0.2");
    const openedAt = Date.now();
    slow.socket.write("GET /status HTTP/1.1\r\nHost: worker\r\n");
    const drip = setInterval(() => slow.socket.writable && slow.socket.write(`X-Drip-${Date.now()}: 1\r\n`), 300);
    try {
      expect(await healthzFrom(s.port, "127.0.0.3")).toBe("HTTP/1.1 200 OK");
      const closedAt = await Promise.race([slow.closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 20_000))]);
      expect(closedAt).not.toBe(-1);
      const lived = closedAt - openedAt;
      expect(lived).toBeGreaterThanOrEqual(STATUS_SERVER_LIMITS.headersTimeoutMs - 100);
      expect(lived).toBeLessThan(STATUS_SERVER_LIMITS.headersTimeoutMs + STATUS_SERVER_LIMITS.checkEveryMs + 3000);
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
    }
  }, 30_000);

  it("connections past the per-address cap, then past the total cap, are closed at once; freed, they are served again", async () => {
    const s = await start({ ...STATUS_SERVER_LIMITS, maxConnections: 4, maxConnectionsPerAddress: 2 });
    // One client takes its share with idle connections...
    const idle = [await connect(s.port, "127.0.0.2"), await connect(s.port, "127.0.0.2")];
    expect(await healthzFrom(s.port, "127.0.0.2")).toBe("closed");
    // ...another address is still served, until everything is taken.
    expect(await healthzFrom(s.port, "127.0.0.3")).toBe("HTTP/1.1 200 OK");
    idle.push(await connect(s.port, "127.0.0.3"), await connect(s.port, "127.0.0.4"));
    expect(await healthzFrom(s.port, "127.0.0.5")).toBe("closed");
    for (const c of idle) c.socket.destroy();
    await Promise.all(idle.map((c) => c.closed));
    await expect.poll(() => healthzFrom(s.port, "127.0.0.2"), { timeout: 5000 }).toBe("HTTP/1.1 200 OK");
  }, 30_000);

  it("a request whose headers came in time but whose body drips is cut at the request deadline", async () => {
    const limits = { ...STATUS_SERVER_LIMITS, headersTimeoutMs: 1000, requestTimeoutMs: 2000, checkEveryMs: 250 };
    const s = await start(limits);
    const slow = await connect(s.port, "127.0.0.2");
    const openedAt = Date.now();
    slow.socket.write("GET /status HTTP/1.1\r\nHost: worker\r\nContent-Length: 1000\r\n\r\n");
    const drip = setInterval(() => slow.socket.writable && slow.socket.write("x"), 200);
    try {
      const lived = (await slow.closed) - openedAt;
      expect(lived).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 100);
      expect(lived).toBeLessThan(limits.requestTimeoutMs + 3000);
    } finally {
      clearInterval(drip);
    }
  }, 30_000);

  it("headers larger than 8 KiB are refused (431)", async () => {
    const s = await start();
    const c = await connect(s.port, "127.0.0.2");
    c.socket.write(`GET /status HTTP/1.1\r\nHost: worker\r\nX-Big: ${"a".repeat(9000)}\r\n\r\n`);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 431/);
  });
});

describe("what /status tells a peer", () => {
  it("an AWS refusal in the plan keeps its sense but loses the account id and the encoded authorization message; secrets in exit reasons are blanked", async () => {
    const refusal =
      "a replacement in g5.xlarge/us-east-1b would be refused (DryRun): You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/demo-synkti-worker/i-0abc is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/*. Encoded authorization failure message: AbC-12_xyzQ";
    const doc = {
      role: "worker",
      modelServer: { state: "restarting", lastExit: { code: 1, signal: null, at: "2026-01-01T00:00:00.000Z", reason: "vllm serve /m --api-key sk-live-0123456789 exited with code 1" } },
      failover: { phase: "idle", plan: { ready: false, pool: "g5.xlarge/us-east-1b", verifiedAt: null, code: "denied", problem: refusal, fix: "synkti infra up --project-name demo" } },
    };
    server = await startStatusServer({ host: "127.0.0.1", port: 0, log: silentLogger }, { healthy: () => true, document: async () => doc as unknown as StatusDocument });
    const body = await (await fetch(`http://${server.endpoint}/status`)).text();
    const served = JSON.parse(body) as typeof doc;
    expect(body).not.toContain("123456789012");
    expect(body).not.toContain("AbC-12_xyzQ");
    expect(body).not.toContain("sk-live-0123456789");
    expect(served.failover.plan.problem).toContain("arn:aws:sts::<account>:assumed-role/demo-synkti-worker/i-0abc is not authorized to perform: ec2:RunInstances");
    expect(served.failover.plan.problem).toContain("Encoded authorization failure message: <omitted>");
    expect(served.failover.plan.fix).toBe("synkti infra up --project-name demo");
  });
});
