/**
 * Ctrl-C during a launch, on the built binary: whatever the moment, the project ends with the
 * fleet it had before (this launch undone, exit 130) or with the complete fleet (exit 0); never a
 * partial one, and instances of earlier launches are never touched. The fault proxy delays
 * RunInstances so the signal lands while calls are in flight.
 */
import { spawn } from "node:child_process";
import { CreateTagsCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { downProject } from "../../src/deployer/fleet/down.js";
import { readyProject, startHarness, type Harness } from "../integration/deployer/harness.js";
import { readFileSync } from "node:fs";
import { until as poll } from "../support/until.js";
import { BINARY, emptySysfsRoot, runCli } from "../support/run-cli.js";

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

/**
 * The plan, the question and --wait (built binary). On a terminal the binary runs under a pseudo-
 * terminal (python's pty module), so stdin and stdout are TTYs as for a person; elsewhere stdin is
 * not a terminal, as in CI.
 */
describe("the launch plan, the question, the model check and --wait (built binary)", () => {
  const env = () => ({ ...process.env, ...h.env, SYNKTI_SYSFS_ROOT: emptySysfsRoot() });
  const args = (project: string, ...more: string[]) => ["--project-name", project, "--model", "tiny-model", ...more];
  const ready = (project: string, model?: string) => readyProject(h, project, { binary: readFileSync(BINARY), ...(model ? { model } : {}) });
  const projectLive = async (project: string) => {
    const out = await h.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiCluster", Values: [project] }, { Name: "instance-state-name", Values: ["pending", "running"] }] }));
    return out.Reservations!.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
  };
  const down = (project: string) => downProject(h.fleet, { project, intervalMs: 200 });
  const tag = (ids: string[], state: string) => h.ec2.send(new CreateTagsCommand({ Resources: ids, Tags: [{ Key: "SynktiState", Value: state }] }));

  /** The binary on a pseudo-terminal: `answer` is typed once the question shows. Output is stdout and stderr, as a person sees them. */
  async function onTerminal(argv: string[], answer?: string): Promise<{ code: number | null; output: string }> {
    const child = spawn("python3", ["-c", "import os,pty,sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))", BINARY, ...argv], { env: env(), stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
    const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    if (answer !== undefined) {
      await until("the question", () => output.includes("[y/N]"));
      child.stdin.write(answer);
    }
    const code = await done;
    clearTimeout(killer);
    return { code, output: output.replaceAll("\r\n", "\n") };
  }

  it("off a terminal: no question, the plan (spot price, hourly estimate) is part of the JSON result", async () => {
    await ready("e2e-plan");
    try {
      const run = await runCli([...args("e2e-plan", "--workers", "2", "--output", "json")], { env: h.env, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toContain("[y/N]");
      const result = JSON.parse(run.stdout);
      expect(result.launched).toHaveLength(2);
      const zones = [...new Set(result.launched.map((l: { availabilityZone: string }) => l.availabilityZone))] as string[];
      // moto's DescribeSpotPriceHistory answers one fixed price, 0.00001, for every zone.
      expect(result.plan).toEqual({
        project: "e2e-plan",
        model: "tiny-model",
        instanceType: "g5.xlarge",
        market: "spot",
        desired: 2,
        active: 0,
        toLaunch: 2,
        zones: Object.fromEntries(zones.map((z) => [z, 1])),
        slots: [0, 1],
        scaleDown: null,
        spotPrice: Object.fromEntries(zones.map((z) => [z, 0.00001])),
        hourlyEstimate: 0.00002,
        currency: "USD",
      });
      const text = await runCli([...args("e2e-plan", "--workers", "3")], { env: h.env, timeoutMs: 60_000 });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain("1 x g5.xlarge (spot) serving tiny-model: about $0.00001/h at the current spot price");
    } finally {
      await down("e2e-plan");
    }
  }, 120_000);

  it("ends by printing the endpoint: JSON `endpoint` (SYNKTI_ENDPOINT_URL, the model, never the key), the text's Endpoint lines", async () => {
    await ready("e2e-endpoint");
    try {
      const local = { ...h.env, SYNKTI_ENDPOINT_URL: "http://127.0.0.1:18080/" };
      const run = await runCli([...args("e2e-endpoint", "--workers", "1", "--output", "json")], { env: local, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.launched).toHaveLength(1);
      expect(result.endpoint).toMatchObject({
        project: "e2e-endpoint",
        url: "http://127.0.0.1:18080",
        urlSource: "SYNKTI_ENDPOINT_URL",
        loadBalancerUrl: expect.stringMatching(/^http:\/\/e2e-endpoint-synkti-.*elb/),
        model: "tiny-model",
        apiKeyParameter: "/synkti/e2e-endpoint/api-key",
      });
      expect(result.endpoint).not.toHaveProperty("apiKey");
      expect(result.endpointUnavailable).toBeNull();
      const text = await runCli([...args("e2e-endpoint", "--workers", "1")], { env: local, timeoutMs: 60_000 });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain("\nEndpoint: http://127.0.0.1:18080  (model tiny-model)\n  export SYNKTI_API_KEY=$(synkti endpoint --project-name e2e-endpoint --region us-east-1 --show-key --output json | jq -r .apiKey)\n");
      expect(text.stdout).toContain(`  curl -sS http://127.0.0.1:18080/v1/completions -H "Authorization: Bearer $SYNKTI_API_KEY"`);
    } finally {
      await down("e2e-endpoint");
    }
  }, 120_000);

  it("a bad SYNKTI_ENDPOINT_URL is exit 2 before anything: no AWS call, nothing launched", async () => {
    await ready("e2e-endpoint-bad");
    h.proxy.resetCounts();
    const run = await runCli([...args("e2e-endpoint-bad", "--workers", "1", "--yes")], { env: { ...h.env, SYNKTI_ENDPOINT_URL: "ftp://127.0.0.1/x" } });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("Error: SYNKTI_ENDPOINT_URL='ftp://127.0.0.1/x' is not valid: its scheme is ftp.");
    expect(run.stderr).toContain("Run: export SYNKTI_ENDPOINT_URL=http://127.0.0.1:<port>");
    expect(h.proxy.counts()).toEqual({});
    expect(await projectLive("e2e-endpoint-bad")).toEqual([]);
  }, 60_000);

  it("on a terminal: shows the plan and asks; no launches nothing (exit 1, the --yes command); yes launches", async () => {
    await ready("e2e-ask");
    try {
      const no = await onTerminal(args("e2e-ask", "--workers", "2"), "n\r");
      expect(no.code, no.output).toBe(1);
      expect(no.output).toMatch(/Plan for e2e-ask: launch 2 x g5\.xlarge \(spot, one-time\) serving tiny-model: 1 in us-east-1\w, 1 in us-east-1\w \(slots 0, 1\)/);
      expect(no.output).toMatch(/current spot price: \$0\.00001\/h in us-east-1\w, \$0\.00001\/h in us-east-1\w; about \$0\.00002\/h for the 2 new workers/);
      expect(no.output).toContain("Launch 2 x g5.xlarge (about $0.00002/h)? [y/N]");
      expect(no.output).toContain("Error: Not confirmed: nothing was launched and the desired size was not changed.");
      expect(no.output).toContain("Run: synkti --project-name e2e-ask --model tiny-model --workers 2 --region us-east-1 --yes");
      expect(await projectLive("e2e-ask")).toEqual([]);

      const yes = await onTerminal(args("e2e-ask", "--workers", "1"), "y\r");
      expect(yes.code, yes.output).toBe(0);
      expect(await projectLive("e2e-ask")).toHaveLength(1);

      const skip = await onTerminal(args("e2e-ask", "--workers", "2", "--yes"));
      expect(skip.code, skip.output).toBe(0);
      expect(skip.output).not.toContain("[y/N]");
      expect(await projectLive("e2e-ask")).toHaveLength(2);
    } finally {
      await down("e2e-ask");
    }
  }, 180_000);

  it("lowering --workers on a terminal asks which workers retire; no changes nothing (exit 1, the --yes command)", async () => {
    await ready("e2e-lower");
    try {
      const up = await runCli([...args("e2e-lower", "--workers", "2", "--yes")], { env: h.env, timeoutMs: 60_000 });
      expect(up.code, up.stderr).toBe(0);
      const no = await onTerminal(args("e2e-lower", "--workers", "1"), "n\r");
      expect(no.code, no.output).toBe(1);
      expect(no.output).toMatch(/Plan for e2e-lower: scale down from 2 to 1 workers: slot 1 \(i-\w+\) drains and terminates itself \(no request fails\)/);
      expect(no.output).toContain("Retire 1 worker (desired 2 -> 1)? [y/N]");
      expect(no.output).toContain("Error: Not confirmed: nothing was launched and the desired size was not changed.");
      expect(no.output).toContain("Run: synkti --project-name e2e-lower --model tiny-model --workers 1 --region us-east-1 --yes");
      const desired = JSON.parse(await (await h.s3.send(new GetObjectCommand({ Bucket: "e2e-lower-models", Key: "cluster/desired.json" }))).Body!.transformToString());
      expect(desired.workers).toBe(2);
      expect(await projectLive("e2e-lower")).toHaveLength(2);
    } finally {
      await down("e2e-lower");
    }
  }, 180_000);

  it("Ctrl-C at the question: exit 130, nothing launched", async () => {
    await ready("e2e-ask-int");
    const run = await onTerminal(args("e2e-ask-int", "--workers", "1"), "\x03");
    expect(run.code, run.output).toBe(130);
    expect(run.output).toContain("Interrupted. Nothing was launched.");
    expect(await projectLive("e2e-ask-int")).toEqual([]);
  }, 120_000);

  it("a launch for another model than the running workers' exits 1 with the down command (preflight's report); nothing more is launched", async () => {
    await ready("e2e-model");
    await ready("e2e-model", "other-model");
    try {
      const first = await runCli([...args("e2e-model", "--workers", "1", "--output", "json")], { env: h.env, timeoutMs: 60_000 });
      expect(first.code, first.stderr).toBe(0);
      const [id] = JSON.parse(first.stdout).launched.map((l: { instanceId: string }) => l.instanceId);
      const other = await runCli(["--project-name", "e2e-model", "--model", "other-model", "--workers", "2", "--yes"], { env: h.env, timeoutMs: 60_000 });
      expect(other.code, other.stderr).toBe(1);
      expect(other.stdout).toMatch(/preflight e2e-model \(us-east-1\): UNSAFE, 1 missing/);
      expect(other.stdout).toMatch(new RegExp(`MISSING +workers-model +the project's workers serve another model: ${id} \\(tiny-model\\)`));
      expect(other.stdout).toContain("Run: synkti down --project-name e2e-model --region us-east-1");
      expect(await projectLive("e2e-model")).toEqual([id]);
      const same = await runCli([...args("e2e-model", "--workers", "1", "--output", "json")], { env: h.env, timeoutMs: 60_000 });
      expect(same.code, same.stderr).toBe(0); // the same model: the running worker counts, nothing launched
      expect(JSON.parse(same.stdout)).toMatchObject({ existing: 1, launched: [] });
    } finally {
      await down("e2e-model");
    }
  }, 120_000);

  it("--wait returns once every worker's SynktiState says serving, with progress on stderr", async () => {
    await ready("e2e-wait");
    try {
      const run = start([...args("e2e-wait", "--workers", "2", "--wait", "--wait-timeout", "2m", "--output", "json")]);
      await until("2 instances", async () => (await projectLive("e2e-wait")).length === 2);
      await until("the first progress line", () => run.stderr().includes("waiting: 0/2 serving, 2 booting"));
      const ids = await projectLive("e2e-wait");
      await tag([ids[0]!], "serving"); // what each worker does on itself once its model answers
      await until("one serving", () => run.stderr().includes("waiting: 1/2 serving, 1 booting"));
      await tag([ids[1]!], "serving");
      const exit = await run.done;
      expect(exit.code, exit.stderr).toBe(0);
      expect(JSON.parse(exit.stdout).wait).toEqual({ serving: expect.arrayContaining(ids), waitedSeconds: expect.any(Number) });
    } finally {
      await down("e2e-wait");
    }
  }, 120_000);

  it("--wait: a worker that goes failed ends the wait at once with its id and the logs command; instances kept", async () => {
    await ready("e2e-wait-fail");
    try {
      const run = start([...args("e2e-wait-fail", "--workers", "1", "--wait")]);
      await until("the first progress line", () => run.stderr().includes("waiting: 0/1 serving"));
      const [id] = await projectLive("e2e-wait-fail");
      await tag([id!], "failed");
      const exit = await run.done;
      expect(exit.code, exit.stderr).toBe(1);
      expect(exit.stderr).toContain(`Error: ${id} failed while booting (SynktiState=failed); stopped waiting.`);
      expect(exit.stderr).toContain(`Run: synkti logs --project-name e2e-wait-fail --region us-east-1 ${id}`);
      expect(await projectLive("e2e-wait-fail")).toEqual([id]);
    } finally {
      await down("e2e-wait-fail");
    }
  }, 120_000);

  it("Ctrl-C during --wait: exit 130, the launch is complete and its instances are kept", async () => {
    await ready("e2e-wait-int");
    try {
      const run = start([...args("e2e-wait-int", "--workers", "1", "--wait")]);
      await until("the first progress line", () => run.stderr().includes("waiting: 0/1 serving"));
      run.child.kill("SIGINT");
      const exit = await run.done;
      expect(exit.code, exit.stderr).toBe(130);
      expect(exit.stderr).toContain("Interrupted while waiting; the launch is complete and its workers keep booting.");
      expect(exit.stderr).toContain("Run: synkti status --project-name e2e-wait-int --region us-east-1");
      expect(await projectLive("e2e-wait-int")).toHaveLength(1);
    } finally {
      await down("e2e-wait-int");
    }
  }, 120_000);

  it("--wait-timeout: exit 1 after the timeout, instances kept, the fixes printed; a bad duration is exit 2", async () => {
    await ready("e2e-wait-slow");
    try {
      const run = await runCli([...args("e2e-wait-slow", "--workers", "1", "--wait-timeout", "3s")], { env: h.env, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/Error: Gave up waiting after 3s: 0\/1 serving, 1 booting \(\d+s\)\. The instances are kept/);
      expect(run.stderr).toContain("synkti logs --project-name e2e-wait-slow --region us-east-1 <instance-id>");
      expect(run.stderr).toContain("synkti down --project-name e2e-wait-slow --region us-east-1");
      expect(run.stderr).toContain("Run: synkti status --project-name e2e-wait-slow --region us-east-1");
      expect(await projectLive("e2e-wait-slow")).toHaveLength(1);
    } finally {
      await down("e2e-wait-slow");
    }
    const bad = await runCli([...args("e2e-wait-slow", "--wait-timeout", "10")], { env: h.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("must be a duration with units, such as 90s, 10m, 1h or 1h30m");
  }, 120_000);
});
