/**
 * Ctrl-C during a launch, on the built binary: whatever the moment, the project ends with the
 * fleet it had before (this launch undone, exit 130) or with the complete fleet (exit 0); never a
 * partial one, and instances of earlier launches are never touched. The fault proxy delays
 * RunInstances so the signal lands while calls are in flight.
 */
import { spawn } from "node:child_process";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { downProject } from "../../src/deployer/fleet/down.js";
import { readyProject, startHarness, type Harness } from "../integration/deployer/harness.js";
import { readFileSync } from "node:fs";
import { until as poll } from "../support/until.js";
import { BINARY, emptySysfsRoot } from "../support/run-cli.js";

const PROJECT = "e2e-interrupt";
const LAUNCH = ["--project-name", PROJECT, "--model", "tiny-model"];
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await readyProject(h, PROJECT, { binary: readFileSync(BINARY) }); // a launch embeds its own SHA-256: S3 must hold this build
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.proxy.resetCounts()); // set-up calls (infra up's STS, earlier launches) must not count
afterEach(async () => {
  h.proxy.clearRules();
  await downProject(h.fleet, { project: PROJECT, intervalMs: 200 });
});

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the binary and hands back the child, so the test can signal it. */
function start(args: string[]) {
  const child = spawn(BINARY, args, { env: { ...process.env, ...h.env, SYNKTI_SYSFS_ROOT: emptySysfsRoot() }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const done = new Promise<Exit>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done, stderr: () => stderr };
}

/** Launch waits: 30 s, every 25 ms (RunInstances calls are delayed by only hundreds of ms). */
const until = (what: string, condition: () => boolean | Promise<boolean>) => poll(what, condition, 30_000, 25);

/** Delays real RunInstances calls (not preflight's DryRun one) from the `from`-th on; counts them all. */
const delayLaunches = (delayMs: number, from = 1) => {
  let n = 0;
  h.proxy.addRule({ action: "ec2:RunInstances", when: (r) => r.params.DryRun !== "true" && ++n >= from, delayMs });
  return () => n;
};

/** Instances of the project that are not terminated, straight from moto. */
async function live(): Promise<Array<{ id: string; state: string; tags: Record<string, string> }>> {
  const out = await h.ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "tag:SynktiCluster", Values: [PROJECT] },
        { Name: "instance-state-name", Values: ["pending", "running", "shutting-down", "stopping", "stopped"] },
      ],
    }),
  );
  return out.Reservations!.flatMap((r) => r.Instances ?? []).map((i) => ({ id: i.InstanceId!, state: i.State!.Name!, tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value])) }));
}

describe("Ctrl-C during a launch (built binary)", () => {
  it("during preflight: nothing is launched, exit 130", async () => {
    h.proxy.addRule({ action: "sts:GetCallerIdentity", delayMs: 1500 });
    const run = start([...LAUNCH, "--workers", "2"]);
    await until("preflight's STS call", () => (h.proxy.counts()["sts:GetCallerIdentity"] ?? 0) > 0);
    run.child.kill("SIGINT");
    const exit = await run.done;
    expect(exit.code, exit.stderr).toBe(130);
    expect(exit.stderr).toContain("Interrupted. Nothing was launched.");
    expect(exit.stderr).not.toContain('"msg":"launched"');
    expect(await live()).toEqual([]);
  });

  it("while RunInstances calls are in flight: waits for their answers, terminates them all, exit 130", async () => {
    const launches = delayLaunches(1500);
    const run = start([...LAUNCH, "--workers", "3"]);
    await until("3 RunInstances in flight", () => launches() >= 3);
    run.child.kill("SIGINT");
    const exit = await run.done;
    expect(exit.code, exit.stderr).toBe(130);
    expect(exit.stderr).toMatch(/Interrupted\. Undid launch l-\S+: terminated i-\w+, i-\w+, i-\w+; nothing else was touched\./);
    expect(await live()).toEqual([]);
  });

  it("after some instances exist and others are still being asked for: terminates all of this launch", async () => {
    const launches = delayLaunches(3000, 3);
    const run = start([...LAUNCH, "--workers", "4"]);
    await until("2 instances launched, 2 more asked for", async () => launches() >= 4 && (await live()).length >= 2);
    run.child.kill("SIGINT");
    const exit = await run.done;
    expect(exit.code, exit.stderr).toBe(130);
    expect(await live()).toEqual([]);
  });

  it("with 3 running, a launch to 5 interrupted leaves exactly the 3, untouched", async () => {
    const first = start([...LAUNCH, "--workers", "3", "--output", "json"]);
    const launched = await first.done;
    expect(launched.code, launched.stderr).toBe(0);
    const three = (JSON.parse(launched.stdout).launched as Array<{ instanceId: string }>).map((l) => l.instanceId).sort();

    const launches = delayLaunches(1500);
    const run = start([...LAUNCH, "--workers", "5"]);
    await until("2 RunInstances in flight", () => launches() >= 2);
    run.child.kill("SIGINT");
    const exit = await run.done;
    expect(exit.code, exit.stderr).toBe(130);
    const left = await live();
    expect(left.map((i) => i.id).sort()).toEqual(three);
    for (const i of left) {
      expect(i.state).toBe("running");
      expect(i.tags.SynktiStopping).toBeUndefined();
    }
  });

  // Abandoned calls leave their outcome unknown, so cleanup keeps sweeping by tag for 15 s.
  it("a second Ctrl-C abandons calls in flight but still cleans up, and says so", async () => {
    const launches = delayLaunches(4000);
    const run = start([...LAUNCH, "--workers", "2"]);
    await until("2 RunInstances in flight", () => launches() >= 2);
    run.child.kill("SIGINT");
    await until("the first interrupt logged", () => run.stderr().includes("stopping the launch"));
    run.child.kill("SIGINT");
    const exit = await run.done;
    expect(exit.code, exit.stderr).toBe(130);
    expect(exit.stderr).toContain("SIGINT again: still terminating this launch's instances");
    expect(await live()).toEqual([]);
  }, 60_000);

  it.each([700, 2000, 3500])("SIGINT %i ms after start: the fleet is empty or complete, never partial", async (ms) => {
    delayLaunches(400);
    const run = start([...LAUNCH, "--workers", "2"]);
    await new Promise((r) => setTimeout(r, ms));
    run.child.kill("SIGINT");
    const exit = await run.done;
    const count = (await live()).filter((i) => i.state !== "shutting-down").length;
    if (exit.code === 0) expect(count).toBe(2);
    else {
      expect(exit.code, exit.stderr).toBe(130);
      expect(count).toBe(0);
    }
  });
});
