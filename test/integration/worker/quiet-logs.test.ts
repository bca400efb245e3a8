/**
 * Quiet logs (issue 9 item 8): an idle, healthy worker logs when something changes, not on every
 * probe. Two agents in the local cloud with the harness's compressed timings (health every 200 ms,
 * peer rounds every 300 ms, listings every 0.5 s: one idle second here is 10 s of production
 * health probes) run side by side; their info-level lines are counted over an idle stretch, and a
 * killed model server (a change) must still be logged.
 */
import { rmSync } from "node:fs";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { atLeast, captureLogs } from "../../support/log-capture.js";
import { awsEnvFor, startMoto, type Moto } from "../../support/moto.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, until, weightsFolder } from "./harness.js";

let moto: Moto;
let ec2: EC2Client;
let modelsDir: string;

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  ec2 = ec2For(moto.url);
  modelsDir = weightsFolder();
});
afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

const IDLE_MS = 12_000;

describe("an idle healthy worker", () => {
  it("logs no line at info level per probe, and still logs a change", async () => {
    const project = `quiet-${process.pid}`;
    await createWorkerInfra(moto.url, project);
    const [a, b] = await launchMembers(ec2, project, 2);
    const watched = captureLogs();
    const agentA = await startAgent(project, a!, testOptions(project, modelsDir), { log: watched.log });
    const agentB = await startAgent(project, b!, testOptions(project, modelsDir));
    try {
      await until("both healthy and asking each other", async () => {
        const s = await agentA.status();
        return s.modelServer.state === "healthy" && s.peers.find((p) => p.instanceId === b)?.health === "healthy";
      }, 30_000);
      const idleFrom = Date.now();
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      const idle = watched.lines.filter((l) => l.at >= idleFrom);
      const loud = atLeast(idle, "info");
      // The probes did run (at debug level): dozens of /health and /metrics answers.
      const probes = idle.filter((l) => l.component === "model-server" && /"GET \/(health|metrics) HTTP/.test(l.msg));
      expect(probes.length).toBeGreaterThan(20);
      expect(atLeast(probes, "info")).toEqual([]);
      // Nothing else repeats either. A real change may still show up on a loaded machine (a probe
      // timing out twice: "unhealthy", then "healthy"), hence a small bound rather than zero.
      expect(loud.length, loud.map((l) => l.msg).join("\n")).toBeLessThanOrEqual(4);

      const before = (await agentA.status()).modelServer;
      process.kill(before.pid!, "SIGKILL");
      await until("healthy again", async () => (await agentA.status()).modelServer.restarts === 1 && (await agentA.status()).modelServer.state === "healthy", 20_000);
      const changes = atLeast(watched.lines, "info").filter((l) => /^model server /.test(l.msg)).map((l) => l.msg);
      expect(changes).toEqual(expect.arrayContaining(["model server failed; restarting after backoff", "model server starting", "model server healthy"]));
    } finally {
      await agentA.stop();
      await agentB.stop();
    }
  }, 90_000);
});
