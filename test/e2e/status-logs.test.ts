/**
 * `synkti status` and `synkti logs` (built binary) as an operator outside the workers' network
 * sees them: instances exist in moto with the tags workers publish on themselves, but no process
 * answers at their endpoints. Status still shows each worker's own state, model and a pending spot
 * notice from the tags, and the failures recorded in the bucket; logs prints a recorded failure.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyProject, startHarness, taggedInstance, type Harness } from "../integration/deployer/harness.js";
import { closedPort, silentServer, type SilentServer } from "../support/free-port.js";
import { runCli } from "../support/run-cli.js";

const PROJECT = "e2e-status-tags";
let h: Harness;
let silent: SilentServer;
beforeAll(async () => {
  h = await startHarness();
  silent = await silentServer();
});
afterAll(async () => {
  await silent?.[Symbol.asyncDispose]();
  await h?.close();
});
const run = (args: string[]) => runCli(args, { env: h.env, timeoutMs: 60_000 });

/** An instance as a worker leaves its tags, with nothing behind it. */
const worker = (zone: string, tags: Record<string, string>) =>
  taggedInstance(h.ec2, zone, { SynktiCluster: PROJECT, SynktiRole: "worker", SynktiLaunch: "l-e2e", SynktiModel: "tiny-model", ...tags });

describe("status and logs from outside the workers' network (built binary)", () => {
  it("shows each unreachable worker's own state and a pending notice from its tags, and the recent failures", async () => {
    const names = await readyProject(h, PROJECT);
    const notice = new Date(Date.now() + 110_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const serving = await worker("us-east-1a", { SynktiState: "serving", SynktiEndpoint: `127.0.0.1:${await closedPort()}` });
    const doomed = await worker("us-east-1b", { SynktiState: "draining", SynktiEndpoint: `127.0.0.1:${silent.port}`, SynktiNotice: notice });
    const booting = await worker("us-east-1c", { SynktiState: "booting" });
    const failed = "i-0fa11ed0fa11ed0fa";
    const record = { instanceId: failed, at: new Date(Date.now() - 600_000).toISOString(), exitCode: 1, reason: "binary SHA-256 mismatch: expected aaaa, got bbbb; refusing to run it" };
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.failureRecordKey(failed), Body: JSON.stringify(record) }));

    const json = await run(["status", "--project-name", PROJECT, "--output", "json"]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    const byId = Object.fromEntries((result.workers as Array<Record<string, unknown>>).map((w) => [w.instanceId, w]));
    expect(byId[serving]).toMatchObject({ state: "running", workerState: "serving", model: "tiny-model", notice: null, instanceType: "g5.xlarge", availabilityZone: "us-east-1a", health: "unreachable" });
    expect(byId[doomed]).toMatchObject({ workerState: "draining", notice: notice.replace("Z", ".000Z"), health: "unreachable", healthDetail: expect.stringContaining(`spot notice: reclaim at ${notice.replace("Z", ".000Z")}`) });
    expect(byId[booting]).toMatchObject({ workerState: "booting", health: "unknown", endpoint: null });
    expect(byId[serving]!.privateIp).toMatch(/^10\./); // moto's invention stays in JSON, but is never dialled or shown as the way in
    expect(result.failures).toEqual([{ ...record, at: new Date(record.at).toISOString() }]);
    expect(result.failuresUnavailable).toBeNull();

    const text = await run(["status", "--project-name", PROJECT]);
    expect(text.code, text.stderr).toBe(0);
    // Still ahead however slow this machine is (the notice is ~110 s out; two runs of the binary come first).
    expect(text.stdout).toMatch(new RegExp(`^3 workers in project ${PROJECT}:\\nNOTICE ${doomed}: reclaim at ${notice.slice(11, 19)}Z \\(in (?:1m)?\\d{1,2}s\\)\\n`));
    expect(text.stdout).toMatch(new RegExp(`${serving} +running +serving +tiny-model +us-east-1a +g5\\.xlarge .*127\\.0\\.0\\.1:\\d+ +unreachable`));
    expect(text.stdout).not.toMatch(/ 10\.\d+\.\d+\.\d+/);
    expect(text.stdout).toContain(`${failed}  `);
    expect(text.stdout).toContain("exit 1  binary SHA-256 mismatch: expected aaaa, got bbbb; refusing to run it");
    expect(text.stdout).toContain(`Run: synkti logs --project-name ${PROJECT} <instance id>`);
  });

  it("logs prints a recorded failure and its log; nothing recorded is exit 1 with what to run; a bad id is exit 2", async () => {
    const names = await readyProject(h, "e2e-logs");
    const id = "i-0bad0bad0bad0bad0";
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.failureRecordKey(id), Body: JSON.stringify({ instanceId: id, at: "2026-11-29T05:12:01Z", exitCode: 3, reason: "still unobservable after 60 s" }) }));
    await h.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.bootLogKey(id), Body: "synkti-boot: downloading\n\u001b]0;pwned\u0007synkti-boot: FATAL: the worker agent will not serve (exit 3)\n" }));

    const text = await run(["logs", "--project-name", "e2e-logs", id]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(
      `${id} failed at 2026-11-29T05:12:01.000Z (exit code 3):\n  still unobservable after 60 s\n\nLog:\nsynkti-boot: downloading\nsynkti-boot: FATAL: the worker agent will not serve (exit 3)\n`,
    );
    const json = await run(["logs", "--project-name", "e2e-logs", id, "--output", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ instanceId: id, failure: { instanceId: id, exitCode: 3, reason: "still unobservable after 60 s" }, log: expect.stringContaining("FATAL") });

    const unknown = await run(["logs", "--project-name", "e2e-logs", "i-0123456789abcdef0"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("Nothing was recorded for i-0123456789abcdef0 in s3://e2e-logs-models/checkpoints/logs/");
    expect(unknown.stderr).toContain("Run: synkti status --project-name e2e-logs");

    const bad = await run(["logs", "--project-name", "e2e-logs", "not-an-id"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'not-an-id' is not an EC2 instance id");
  });
});
