/**
 * `synkti status --watch --output json` (built binary) against moto: one JSON document per line
 * and refresh, each carrying the workers (with the SynktiPlan tag's plan) and the recent failovers
 * from the bucket, until Ctrl-C, which ends it with exit 130 and nothing half-written.
 */
import { spawn } from "node:child_process";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyProject, startHarness, taggedInstance, type Harness } from "../integration/deployer/harness.js";
import { BINARY, emptySysfsRoot } from "../support/run-cli.js";
import { until } from "../support/until.js";

const PROJECT = "e2e-status-watch";
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Runs the binary until `enough(stdout)`, then Ctrl-C; its exit code and output. */
async function watchUntilSigint(args: string[], enough: (stdout: string) => boolean) {
  const child = spawn(BINARY, args, {
    env: { ...process.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9", SYNKTI_SYSFS_ROOT: emptySysfsRoot(), ...h.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const closed = new Promise<[number | null, string | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
  try {
    await until("enough output", () => enough(stdout), 60_000, 50);
  } finally {
    child.kill("SIGINT");
  }
  const [code, signal] = await closed;
  return { code, signal, stdout, stderr };
}

describe("status --watch (built binary)", () => {
  it("writes one JSON document per refresh (or whole text views) and ends on SIGINT with exit 130", async () => {
    const names = await readyProject(h, PROJECT);
    const id = await taggedInstance(h.ec2, "us-east-1a", { SynktiCluster: PROJECT, SynktiRole: "worker", SynktiLaunch: "l-e2e", SynktiState: "serving", SynktiPlan: "no-pool" });
    const doomed = "i-0d00d00d00d00d00d";
    const phase = (state: string, startedAt: string | null, endedAt: string | null) => ({ state, startedAt, endedAt, detail: null });
    const t0 = Date.now() - 120_000;
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    const timeline = {
      doomed,
      status: "retired",
      trigger: "spot-interruption",
      deadlineAt: at(120),
      replacement: id,
      phases: { drain: phase("done", at(0), at(10)), select: phase("done", at(0), at(0.2)), spawn: phase("done", at(0.2), at(1)), health: phase("done", at(1), at(90)) },
    };
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.failoverKey(doomed), Body: JSON.stringify(timeline) }));

    const { code, signal, stdout, stderr } = await watchUntilSigint(["status", "--project-name", PROJECT, "--watch", "--interval", "1s", "--output", "json"], (out) => out.split("\n").filter(Boolean).length >= 2);
    expect({ code, signal, stderr }).toEqual({ code: 130, signal: null, stderr: "" });
    expect(stdout.endsWith("\n")).toBe(true);
    const documents = stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(documents.length).toBeGreaterThanOrEqual(2);
    for (const doc of documents) {
      expect(doc.workers).toEqual([expect.objectContaining({ instanceId: id, workerState: "serving", plan: expect.objectContaining({ ready: false, code: "no-pool", source: "tag" }) })]);
      expect(doc.failovers).toEqual([expect.objectContaining({ doomed, replacement: id, status: "retired", totalSeconds: 90 })]);
      expect(doc.failovers[0].phases.spawn).toEqual(phase("done", at(0.2), at(1)));
    }

    // Text, piped (no terminal, so no screen clearing): whole views one after the other.
    const text = await watchUntilSigint(["status", "--project-name", PROJECT, "--watch", "--interval", "1s"], (out) => (out.match(/Ctrl-C to stop/g) ?? []).length >= 2);
    expect(text.code).toBe(130);
    expect(text.stdout).not.toContain("\u001b");
    const views = text.stdout.split(/\n\n(?=1 worker in project)/);
    expect(views.length).toBeGreaterThanOrEqual(2);
    for (const view of views.slice(0, 2)) {
      expect(view).toContain(`PLAN ${id} not ready: no pool other than its own`);
      expect(view).toContain(`${doomed} -> ${id}  spot-interruption  retired  total 90.0s`);
      expect(view).toMatch(/Every 1s, updated \d\d:\d\d:\d\dZ\. Ctrl-C to stop\./);
    }
  });
});
