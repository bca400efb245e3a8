import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/core/log.js";
import { runningRequests } from "../../../src/worker/model-server/probes.js";
import { buildStatusDocument, type StatusParts } from "../../../src/worker/status/build-document.js";
import { askPeerStatus, WrongPeerError } from "../../../src/cluster/peer-client.js";
import { startStatusServer } from "../../../src/worker/status/status-server.js";

const parts: StatusParts = {
  project: "demo",
  facts: { instanceId: "i-0123456789abcdef0", region: "us-east-1", availabilityZone: "us-east-1b", instanceType: "g5.xlarge", localIpv4: "127.0.0.1", imageId: "ami-1" },
  endpoint: "127.0.0.1:8080",
  modelServer: { state: "healthy", restarts: 2, pid: 4242, since: "2026-01-01T00:00:00.000Z", lastExit: { code: 1, signal: null, at: "2025-12-31T23:59:00.000Z", reason: "exited with code 1" } },
  inFlight: 3,
  peers: [{ instanceId: "i-0aaaaaaaaaaaaaaaa", endpoint: "127.0.0.3:8080", availabilityZone: "us-east-1a", health: "healthy", askedAt: "2026-01-01T00:00:01.000Z", seenAt: "2026-01-01T00:00:00.000Z", source: "ec2" }],
  clusterSize: 2,
  stats: { listings: 1, describeCalls: 1, lastListingAt: Date.parse("2026-01-01T00:00:00Z"), nextListingAt: null },
  interruption: { notice: { action: "terminate", time: "2026-01-01T00:02:00Z", observedAt: "2026-01-01T00:00:00.500Z" } },
  loadBalancer: { targetGroup: "demo-synkti-tg", registered: true, draining: false },
};

describe("status document", () => {
  it("has the documented shape", () => {
    const doc = buildStatusDocument(parts);
    expect(doc).toMatchObject({
      role: "worker",
      project: "demo",
      instanceId: "i-0123456789abcdef0",
      availabilityZone: "us-east-1b",
      instanceType: "g5.xlarge",
      endpoint: "127.0.0.1:8080",
      modelServer: { state: "healthy", restarts: 2, lastExit: { code: 1 } },
      inFlight: 3,
      peers: [{ instanceId: "i-0aaaaaaaaaaaaaaaa", endpoint: "127.0.0.3:8080", health: "healthy" }],
      interruption: { notice: { action: "terminate" } },
      failover: { phase: "idle" },
      discovery: { clusterSize: 2, describeCalls: 1, lastListingAt: "2026-01-01T00:00:00.000Z", nextListingAt: null },
    });
    expect(typeof doc.version).toBe("string");
    expect(buildStatusDocument({ ...parts, inFlight: undefined }).inFlight).toBeNull();
  });

  it("sums vllm:num_requests_running over its label sets", () => {
    const metrics = [
      "# HELP vllm:num_requests_running Number of requests currently running.",
      "# TYPE vllm:num_requests_running gauge",
      'vllm:num_requests_running{engine="0",model_name="qwen"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="qwen"} 2.0',
      'vllm:num_requests_running_total_something{model_name="qwen"} 99',
      'vllm:num_requests_waiting{model_name="qwen"} 7.0',
    ].join("\n");
    expect(runningRequests(metrics)).toBe(5);
    expect(runningRequests("vllm:num_requests_running 0")).toBe(0);
    expect(runningRequests("vllm:num_requests_waiting 1")).toBeUndefined();
  });
});

describe("status endpoint", () => {
  it("serves /status as JSON and /healthz as 200/503; a peer client reads it back", async () => {
    let healthy = true;
    await using server = await startStatusServer({ host: "127.0.0.1", port: 0, log: silentLogger }, { healthy: () => healthy, document: async () => buildStatusDocument(parts) });
    const base = `http://${server.endpoint}`;
    const status = await fetch(`${base}/status`);
    expect(status.status).toBe(200);
    expect(status.headers.get("content-type")).toBe("application/json");
    expect(await status.json()).toEqual(JSON.parse(JSON.stringify(buildStatusDocument(parts))));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    healthy = false;
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/status`, { method: "POST" })).status).toBe(405);
    const peer = await askPeerStatus(server.endpoint, { timeoutMs: 1000 });
    expect(peer).toMatchObject({ role: "worker", instanceId: "i-0123456789abcdef0", modelServer: { state: "healthy" }, peers: [{ instanceId: "i-0aaaaaaaaaaaaaaaa" }] });
    // Asked about a given instance of a given project, only that one's answer counts: a stale
    // endpoint now held by another instance (or another project's worker) is refused.
    const expected = { instanceId: "i-0123456789abcdef0", project: parts.project };
    expect(await askPeerStatus(server.endpoint, { timeoutMs: 1000, expect: expected })).toMatchObject({ instanceId: expected.instanceId });
    await expect(askPeerStatus(server.endpoint, { timeoutMs: 1000, expect: { ...expected, instanceId: "i-0bbbbbbbbbbbbbbbb" } })).rejects.toThrow(WrongPeerError);
    await expect(askPeerStatus(server.endpoint, { timeoutMs: 1000, expect: { ...expected, project: "another-project" } })).rejects.toThrow(/answered for project .*, not another-project/);
  });

  it("a peer client refuses what is not a worker's status, and slow peers", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/status" && req.headers.host?.endsWith("slow")) return; // never answers
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ role: "deployer" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(askPeerStatus(`127.0.0.1:${port}`, { timeoutMs: 1000 })).rejects.toThrow(/not a synkti worker status/);
      await expect(askPeerStatus("10.0.0.1", { timeoutMs: 1000 })).rejects.toThrow(/not a worker endpoint/);
      await expect(askPeerStatus("evil.example.com:80", { timeoutMs: 1000 })).rejects.toThrow(/not a worker endpoint/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const started = Date.now();
    try {
      await expect(askPeerStatus(`127.0.0.1:${(silent.address() as AddressInfo).port}`, { timeoutMs: 200 })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
