/**
 * Issue 14 item 3, the deployer's side: the permissions the README lists once for administrators
 * (<!-- deployer-actions --> and <!-- infra-actions -->) cover every AWS call the built binary
 * makes in a project's whole life, recorded by the fault proxy: infra up and status, both uploads,
 * preflight, a launch, status, endpoint, logs, leaks, down and infra destroy. Each recorded call is
 * translated into the IAM requests it needs (test/support/iam/calls.ts) and evaluated offline
 * (@cloud-copilot/iam-simulate, test code only) against a policy granting exactly the README's
 * actions: a call the list misses is refused, naming the action.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../integration/deployer/harness.js";
import { CALL_TABLE, iamRequestsFor, type RecordedCall } from "../support/iam/calls.js";
import { factsFromMoto, MOTO_ACCOUNT } from "../support/iam/recorded.js";
import { judge, refusals } from "../support/iam/proof.js";
import { listedActions } from "../support/readme-permissions.js";
import { emptySysfsRoot, runCli } from "../support/run-cli.js";

const PROJECT = "e2e-perms";
const MODEL = "tiny-model";
let h: Harness;
let weights: string;

beforeAll(async () => {
  h = await startHarness();
  weights = mkdtempSync(path.join(tmpdir(), "synkti-perms-"));
  mkdirSync(path.join(weights, "sub"));
  writeFileSync(path.join(weights, "config.json"), '{"layers":2}\n');
  writeFileSync(path.join(weights, "sub", "part-0.safetensors"), Buffer.alloc(64 * 1024, 7));
});
afterAll(async () => {
  await h?.close();
  if (weights) rmSync(weights, { recursive: true, force: true });
});

const synkti = (args: string[]) => runCli([...args, "--output", "json"], { env: { ...h.env, SYNKTI_LOG_LEVEL: "warn", SYNKTI_SYSFS_ROOT: emptySysfsRoot() }, timeoutMs: 120_000 });
const p = ["--project-name", PROJECT];

describe("the deployer's permissions, as the README lists them, cover every call of a project's life (built binary, offline IAM evaluation)", () => {
  it("every recorded call is allowed by exactly the listed actions", async () => {
    const steps: Array<[string[], number[]]> = [
      [["infra", "up", ...p, "--instance-types", "g5.xlarge"], [0]],
      [["infra", "status", ...p], [0]],
      [["upload", "binary", ...p], [0]],
      [["upload", "model", ...p, "--model", MODEL, "--from", weights], [0]],
      [["preflight", ...p, "--model", MODEL], [0, 1]],
      [[...p, "--model", MODEL, "--workers", "1", "--instance-types", "g5.xlarge", "--yes"], [0]],
      [["status", ...p], [0, 1]],
      [["endpoint", ...p, "--show-key"], [0, 1]],
    ];
    for (const [args, codes] of steps) {
      const run = await synkti(args);
      expect(codes, `synkti ${args.join(" ")}: ${run.stderr.slice(-2000)}`).toContain(run.code);
    }
    const [instanceId] = ((await h.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiCluster", Values: [PROJECT] }] }))).Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
    expect(instanceId, "the launch made an instance").toBeDefined();
    for (const [args, codes] of [
      [["logs", ...p, instanceId!], [0, 1]],
      [["leaks", ...p], [0, 1]],
      [["down", ...p], [0]],
      [["infra", "destroy", ...p, "--yes"], [0]],
    ] as Array<[string[], number[]]>) {
      const run = await synkti(args);
      expect(codes, `synkti ${args.join(" ")}: ${run.stderr.slice(-2000)}`).toContain(run.code);
    }

    const calls: RecordedCall[] = h.proxy.calls().map(({ request: r }) => ({ action: r.action, params: r.params, path: r.path, headers: r.headers, method: r.method, ...(r.json !== undefined ? { json: r.json } : {}) }));
    const distinct = [...new Map(calls.map((c) => [JSON.stringify([c.action, c.params, c.path, c.json]), c])).values()];
    const facts = await factsFromMoto(h.moto.url, []);
    expect(distinct.map((c) => c.action).filter((a) => !(a in CALL_TABLE)), "calls the IAM table does not translate yet").toEqual([]);
    const listed = [...listedActions("deployer-actions"), ...listedActions("infra-actions")];
    const policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: listed, Resource: "*" }] };
    const judged = await judge(policy, `arn:aws:iam::${MOTO_ACCOUNT}:user/operator`, distinct.map((call) => ({ label: call.action, call })), facts);
    expect(refusals(judged)).toEqual([]);

    // Not vacuous: the life above needed most of what the README lists (the rest is named here).
    const needed = new Set(distinct.flatMap((c) => iamRequestsFor(c, facts).map((r) => r.action)));
    const unused = listed.filter((a) => !needed.has(a));
    console.log(`deployer: ${distinct.length} distinct calls needing ${needed.size} IAM actions; listed but not needed in this run: ${unused.join(", ") || "none"}`);
    expect(needed.size).toBeGreaterThan(listed.length / 2);
  }, 600_000);
});
