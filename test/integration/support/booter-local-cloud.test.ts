import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DescribeInstancesCommand, DescribeSubnetsCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { CreateLoadBalancerCommand, DeleteLoadBalancerCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkConfigFor } from "../../support/moto.js";
import { until as poll } from "../../support/until.js";

// `npm run local-cloud` as a user runs it: the script in the foreground, client commands from
// another process, Ctrl-C. Its state file goes to a temp folder (SYNKTI_LOCAL_CLOUD_STATE_DIR).
const root = path.resolve(import.meta.dirname, "..", "..", "..");
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const script = path.join(root, "scripts", "local-cloud.ts");
const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-local-cloud-state-"));
const env = { ...process.env, SYNKTI_LOCAL_CLOUD_STATE_DIR: stateDir };
let server: ChildProcess;
let stdout = "";
let stderr = "";
let ec2: EC2Client;
let elb: ElasticLoadBalancingV2Client;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", tsx, script, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("close", (code) => resolve({ code, stdout: out, stderr: err }));
  });
}


/** Waits every 100 ms; on a timeout, says what the local cloud printed. */
const until = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000) =>
  poll(what, check, timeoutMs, 100, () => `stdout:\n${stdout}\nstderr:\n${stderr}`);

beforeAll(async () => {
  server = spawn(process.execPath, ["--import", tsx, script, "--project", "lc-test", "--env", "LC_TEST=1"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  server.stdout!.on("data", (c) => (stdout += c));
  server.stderr!.on("data", (c) => (stderr += c));
  const motoUrl = await until("the exports", () => /^export AWS_ENDPOINT_URL=(\S+)$/m.exec(stdout)?.[1], 60_000);
  ec2 = new EC2Client(sdkConfigFor(motoUrl));
  elb = new ElasticLoadBalancingV2Client(sdkConfigFor(motoUrl));
});
afterAll(async () => {
  ec2?.destroy();
  elb?.destroy();
  if (server?.pid && server.exitCode === null) process.kill(-server.pid, "SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

describe("npm run local-cloud", () => {
  it("--help prints the subcommands and options and exits 0; a bad option value is a usage error", async () => {
    const help = await run(["--help"]);
    expect(help.code, help.stderr).toBe(0);
    for (const line of [/^ {2}instances /m, /^ {2}load-balancers /m, /^ {2}interrupt <instance-id> /m, /^ {2}rebalance <instance-id> /m, /^ {2}kill <instance-id> /m]) expect(help.stdout).toMatch(line);
    for (const option of ["--project P", "--subnet A.B.C", "--env KEY=VALUE", "--shutdown-grace-ms MS", "--keep", "-h, --help"]) expect(help.stdout).toContain(option);
    expect((await run(["-h"])).stdout).toBe(help.stdout);
    const bad = await run(["--shutdown-grace-ms", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--shutdown-grace-ms wants a number of milliseconds (0 or more), got 'soon'");
  });

  it("plays each load balancer created in moto; the project's keeps the port SYNKTI_ENDPOINT_URL named from the start", async () => {
    // Printed at start, before any load balancer exists: the project's port answers 503 and says why.
    const endpoint = /^export SYNKTI_ENDPOINT_URL=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1];
    expect(endpoint, stdout).toBeDefined();
    const early = await fetch(`${endpoint}/v1/models`);
    expect(early.status).toBe(503);
    expect(await early.text()).toContain("the load balancer lc-test-synkti does not exist in this local cloud");
    expect((await run(["load-balancers"])).stdout.trim()).toBe("[]");

    // What `synkti infra up --project-name lc-test` creates (src/infra/names.ts), and another project's.
    const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.slice(0, 2).map((s) => s.SubnetId!);
    const created = await Promise.all(
      ["lc-test-synkti", "other-synkti"].map(async (Name) => (await elb.send(new CreateLoadBalancerCommand({ Name, Subnets: subnets }))).LoadBalancers![0]!),
    );
    await until("the project's load balancer line", () => stdout.includes(`# load balancer lc-test-synkti: ${endpoint}\n`));
    const other = await until("the other one's line", () => /^# load balancer other-synkti: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1]);
    expect(other).not.toBe(endpoint);
    const listed = await run(["load-balancers"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "lc-test-synkti", url: endpoint, arn: created[0]!.LoadBalancerArn, dnsName: created[0]!.DNSName, targets: [], requests: {} }),
        expect.objectContaining({ name: "other-synkti", url: other }),
      ]),
    );
    // Now the stand-in itself answers there, as ALB does with no healthy target.
    const served = await fetch(`${endpoint}/v1/models`);
    expect(served.status).toBe(503);
    expect(served.headers.get("server")).toBe("awselb/2.0");

    // Deleted (infra destroy): its stand-in stops, and the project's port is kept again.
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: created[0]!.LoadBalancerArn }));
    await until("the stand-in stopped", () => stderr.includes("load balancer lc-test-synkti deleted from moto; its stand-in stopped"));
    expect((await (await fetch(`${endpoint}/v1/models`)).text())).toContain("does not exist in this local cloud");
  }, 60_000);

  it("prints the deployer's environment, boots instances, takes interrupt/rebalance/kill from another process, stops on Ctrl-C", async () => {
    expect(stdout).toMatch(/^export AWS_EC2_METADATA_SERVICE_ENDPOINT=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^export AWS_ACCESS_KEY_ID=testing$/m);
    expect(stdout).toMatch(/^export AWS_REGION=us-east-1$/m);
    const state = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8"));
    expect(state).toMatchObject({ pid: server.pid, controlUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });

    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678", InstanceType: "g5.xlarge", MinCount: 1, MaxCount: 1,
        UserData: Buffer.from('#!/bin/bash\necho "knob=$LC_TEST"\nexec sleep 300\n').toString("base64"),
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiCluster", Value: "lc-test" }] }],
      }),
    );
    const id = launched.Instances![0]!.InstanceId!;
    await until("the boot", () => stderr.includes(`booted ${id}`));

    const listed = await run(["instances"]);
    expect(listed.code, listed.stderr).toBe(0);
    const [instance] = JSON.parse(listed.stdout);
    expect(instance).toMatchObject({ instanceId: id, address: expect.stringMatching(/^127\./), state: "running", ended: false });
    await until("the user-data output", () => existsSync(instance.log) && readFileSync(instance.log, "utf8").includes("knob=1"));

    // An instance it does not have: said plainly, with the ones it has, exit 1.
    for (const unknown of ["i-0123456789abcdef0", "web-1"]) {
      const refused = await run(["interrupt", unknown]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`interrupt failed: ${unknown} is not an instance of this local cloud; running instances: ${id} (${instance.address})`);
      expect(refused.stderr).toContain("List the instances with: npm run local-cloud -- instances");
    }

    const interrupted = await run(["interrupt", id]);
    expect(interrupted.code, interrupted.stderr).toBe(0);
    expect(JSON.parse(interrupted.stdout)).toMatchObject({ action: "terminate" });
    expect((await run(["rebalance", id])).code).toBe(0);
    await until("the notice in its output", () => /spot interruption notice/.test(stderr));

    const killed = await run(["kill", id]);
    expect(killed.code, killed.stderr).toBe(0);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.State?.Name).toMatch(/shutting-down|terminated/);
    const again = await run(["kill", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`kill failed: ${id} has ended; no instance is running`);
    expect((await run(["interrupt"])).code).toBe(2);
    const unknownCommand = await run(["explode", id]);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/Unknown command 'explode'; the commands are: instances, load-balancers, interrupt, rebalance, kill\.\nSee: npm run local-cloud -- --help/);

    process.kill(server.pid!, "SIGINT");
    const code = await new Promise((resolve) => server.once("exit", resolve));
    expect(code).toBe(0);
    expect(existsSync(path.join(stateDir, "state.json"))).toBe(false);
    const after = await run(["instances"]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/No local cloud is running\. Start one with: npm run local-cloud/);
  }, 120_000);
});
