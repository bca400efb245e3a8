/**
 * The deployer asks a worker's published endpoint for its health, over real HTTP on loopback: the
 * worker's own answer, "unknown" when another instance answers, "unreachable" when nobody answers
 * (refused, or silent past the timeout).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askWorkerHealth, HEALTH_TIMEOUT_MS } from "../../../src/deployer/fleet/health.js";
import { closedPort, silentServer } from "../../support/free-port.js";

let server: http.Server;
let endpoint: string;
let state = "healthy";
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url !== "/status") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ role: "worker", instanceId: "i-worker", modelServer: { state }, peers: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("askWorkerHealth", () => {
  it("is the worker's own model server state", async () => {
    state = "healthy";
    expect(await askWorkerHealth("i-worker", endpoint)).toEqual({ health: "healthy", detail: null });
    state = "restarting";
    expect(await askWorkerHealth("i-worker", endpoint)).toEqual({ health: "restarting", detail: null });
  });

  it("does not believe an answer from another instance (a stale endpoint)", async () => {
    expect(await askWorkerHealth("i-other", endpoint)).toEqual({ health: "unknown", detail: `${endpoint} answered as i-worker` });
  });

  it("is unreachable when the port refuses, or stays silent past the timeout", async () => {
    expect((await askWorkerHealth("i-worker", `127.0.0.1:${await closedPort()}`)).health).toBe("unreachable");
    await using silent = await silentServer();
    const started = Date.now();
    expect((await askWorkerHealth("i-worker", `127.0.0.1:${silent.port}`)).health).toBe("unreachable");
    expect(Date.now() - started).toBeLessThan(HEALTH_TIMEOUT_MS + 1500);
  });
});
