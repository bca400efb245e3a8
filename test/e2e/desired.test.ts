/**
 * The desired size from the operator's side, on the built binary against moto: `--workers` sets
 * cluster/desired.json only when given, lowering it off a terminal needs --yes (exit 1 with the
 * command), a lower size launches and terminates nothing (the surplus retires itself), and
 * `synkti down` sets 0 first and terminates everything even when CreateTags is refused.
 */
import { readFileSync } from "node:fs";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyProject, startHarness, type Harness } from "../integration/deployer/harness.js";
import { BINARY, runCli } from "../support/run-cli.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const run = (args: string[]) => runCli(args, { env: h.env, timeoutMs: 60_000 });
const launch = (project: string, ...more: string[]) => run(["--project-name", project, "--model", "tiny-model", ...more]);
const desiredIn = async (project: string) => {
  try {
    return JSON.parse(await (await h.s3.send(new GetObjectCommand({ Bucket: `${project}-models`, Key: "cluster/desired.json" }))).Body!.transformToString());
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw error;
  }
};
const claims = async (project: string) =>
  ((await h.s3.send(new ListObjectsV2Command({ Bucket: `${project}-models`, Prefix: "checkpoints/claims/" }))).Contents ?? []).map((o) => o.Key!).sort();
const live = async (project: string) => {
  const out = await h.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiCluster", Values: [project] }, { Name: "instance-state-name", Values: ["pending", "running"] }] }));
  return out.Reservations!.flatMap((r) => r.Instances ?? []).map((i) => ({ id: i.InstanceId!, slot: i.Tags?.find((t) => t.Key === "SynktiSlot")?.Value }));
};

describe("--workers and cluster/desired.json (built binary)", () => {
  it("no flag: 1 worker, no desired.json; --workers 3 sets it and fills slots 1, 2; no flag keeps 3; lowering needs --yes, then retires slot 2 without terminating it", async () => {
    const project = "e2e-desired";
    await readyProject(h, project, { binary: readFileSync(BINARY) });

    const first = await launch(project, "--output", "json");
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ desired: 1, desiredFile: null, desiredSource: "default", launched: [{ slot: 0 }] });
    expect(await desiredIn(project)).toBeUndefined();

    const three = await launch(project, "--workers", "3", "--output", "json");
    expect(three.code, three.stderr).toBe(0);
    const raised = JSON.parse(three.stdout);
    expect(raised).toMatchObject({ desired: 3, desiredSource: "flag", desiredFile: { workers: 3 } });
    expect(raised.launched.map((l: { slot: number }) => l.slot).sort()).toEqual([1, 2]);
    expect(await desiredIn(project)).toEqual(raised.desiredFile);
    expect((await live(project)).map((i) => i.slot).sort()).toEqual(["0", "1", "2"]);
    // Each slot it filled was claimed first, with the name a worker's repair would use (never filled: the generation).
    const generation = `d${Date.parse(raised.desiredFile.setAt)}`;
    expect(await claims(project)).toEqual([`checkpoints/claims/1-${generation}`, `checkpoints/claims/2-${generation}`]);

    const kept = await launch(project);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain("3 workers already pending or running: launching nothing");
    expect(kept.stdout).toContain(`desired workers: 3 (cluster/desired.json, set at ${raised.desiredFile.setAt}; kept; --workers <n> changes it)`);
    expect(await desiredIn(project)).toEqual(raised.desiredFile);

    const refused = await launch(project, "--workers", "2");
    expect(refused.code, refused.stderr).toBe(1);
    const slot2 = (await live(project)).find((i) => i.slot === "2")!.id;
    expect(refused.stderr).toContain(`Error: Lowering the desired workers from 3 to 2 needs a yes (1 worker would drain and terminate itself: slot 2 (${slot2})); there is no terminal to ask on, so nothing was changed.`);
    expect(refused.stderr).toContain(`Run: synkti --project-name ${project} --model tiny-model --workers 2 --region us-east-1 --yes`);
    expect(await desiredIn(project)).toEqual(raised.desiredFile);

    const lowered = await launch(project, "--workers", "2", "--yes", "--output", "json");
    expect(lowered.code, lowered.stderr).toBe(0);
    const down = JSON.parse(lowered.stdout);
    expect(down).toMatchObject({ launched: [], desiredFile: { workers: 2 }, plan: { toLaunch: 0, scaleDown: { from: 3, to: 2, retiring: [{ slot: 2, instanceId: slot2 }] } } });
    expect((await live(project)).map((i) => i.id)).toContain(slot2); // it retires itself, through the load balancer: the launch terminates nothing
    expect((await desiredIn(project)).workers).toBe(2);
  }, 240_000);

  it("a slot a worker's repair has just claimed is left to it: the launch fills the others and says which it left", async () => {
    const project = "e2e-desired-held";
    await readyProject(h, project, { binary: readFileSync(BINARY) });
    await h.s3.send(new PutObjectCommand({ Bucket: `${project}-models`, Key: "checkpoints/claims/1-i-0123456789abcdef0", Body: "{}" }));
    const run = await launch(project, "--workers", "2", "--output", "json");
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.launched.map((l: { slot: number }) => l.slot)).toEqual([0]);
    expect(result.heldSlots).toEqual([{ slot: 1, key: "checkpoints/claims/1-i-0123456789abcdef0" }]);
    expect((await live(project)).map((i) => i.slot)).toEqual(["0"]);
  }, 120_000);

  it("synkti down with every CreateTags refused: desired 0 first, every instance terminated, exit 0", async () => {
    const project = "e2e-down-tags";
    await readyProject(h, project, { binary: readFileSync(BINARY) });
    const up = await launch(project, "--workers", "2");
    expect(up.code, up.stderr).toBe(0);
    const rule = h.proxy.addRule({ action: "ec2:CreateTags", error: "access-denied" });
    try {
      const down = await run(["down", "--project-name", project, "--output", "json"]);
      expect(down.code, down.stderr).toBe(0);
      const result = JSON.parse(down.stdout);
      expect(h.proxy.ruleHits(rule)).toBeGreaterThan(0);
      expect(result).toMatchObject({ desired: { workers: 0 }, desiredProblem: null, remaining: [], error: null });
      expect(result.terminated).toHaveLength(2);
      expect(await live(project)).toEqual([]);
      expect(await desiredIn(project)).toEqual(result.desired);
    } finally {
      h.proxy.removeRule(rule);
    }
  }, 120_000);
});
