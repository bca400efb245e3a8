import { CreateTagsCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Booter, type BooterEvent } from "../../support/booter/booter.js";
import type { LocalInstance } from "../../support/booter/instance.js";
import { sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";
import { until as poll } from "../../support/until.js";

/** Booter waits: 20 s unless said, every 100 ms. */
const until = <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000) => poll(what, check, timeoutMs, 100);

// The booter against a real moto, with a minimal user-data of its own (the real one is exercised
// by test/e2e/cluster.test.ts). One moto and one booter for the file; each test launches its own.
let moto: Moto;
let booter: Booter;
let ec2: EC2Client;
let s3: S3Client;
const events: BooterEvent[] = [];
const PROJECT = "booter-it";
/** This file's SIGTERM-to-SIGKILL grace: long enough to tell "within the grace" from "after it" on a busy machine. */
const GRACE_MS = 5000;

/** Prints what the instance sees, fetches an object with IMDS credentials, then idles (plus an orphaned, detached sleep). */
const USER_DATA = `#!/bin/bash
set -euo pipefail
export AWS_DEFAULT_REGION=us-east-1
env | sort > "$SYNKTI_INSTALL_PREFIX/env.txt"
imds="$AWS_EC2_METADATA_SERVICE_ENDPOINT"
token="$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token")"
curl -sf -H "X-aws-ec2-metadata-token: $token" "$imds/latest/dynamic/instance-identity/document" > "$SYNKTI_INSTALL_PREFIX/identity.json"
aws s3 cp --only-show-errors "s3://$PROJECT_BUCKET/hello.txt" "$SYNKTI_MODELS_DIR/hello.txt"
echo "user-data done"
(setsid sleep 300 &) # double fork: an orphan in its own session, found only by the marker
exec sleep 300
`;

/** Handles SIGTERM as a service would on an OS shutdown: says so, finishes its work, exits 0. */
const GRACEFUL = `#!/bin/bash
trap 'echo "SIGTERM: draining"; sleep 0.2; echo "drained, exiting"; exit 0' TERM
echo "serving"
sleep 300 &
wait
`;

/** Ignores SIGTERM, and so does everything it starts (an ignored signal stays ignored across exec), a detached orphan too. */
const DEAF = `#!/bin/bash
trap '' TERM
(setsid sleep 301 &)
echo "ignoring SIGTERM"
exec sleep 300
`;

beforeAll(async () => {
  moto = await startMoto();
  const config = sdkConfigFor(moto.url);
  ec2 = new EC2Client(config);
  const iam = new IAMClient(config);
  await iam.send(new CreateRoleCommand({ RoleName: "booter-role", AssumeRolePolicyDocument: "{}" }));
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "booter-profile" }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "booter-profile", RoleName: "booter-role" }));
  s3 = new S3Client(config);
  await s3.send(new CreateBucketCommand({ Bucket: "booter-it-models" }));
  await s3.send(new PutObjectCommand({ Bucket: "booter-it-models", Key: "hello.txt", Body: "hello from s3\n" }));
  booter = await Booter.start({ motoUrl: moto.url, project: PROJECT, pollIntervalMs: 200, shutdownGraceMs: GRACE_MS, onEvent: (e) => events.push(e) });
});
afterAll(async () => {
  await booter?.stop();
  ec2?.destroy();
  s3?.destroy();
  await moto?.stop();
});

async function launch(options: { project?: string; userData?: string; profile?: boolean } = {}): Promise<string> {
  const answer = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12345678",
      InstanceType: "g5.xlarge",
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: "us-east-1c" },
      InstanceMarketOptions: { MarketType: "spot" },
      MetadataOptions: { HttpTokens: "required", InstanceMetadataTags: "enabled" },
      ...(options.profile === false ? {} : { IamInstanceProfile: { Name: "booter-profile" } }),
      UserData: Buffer.from((options.userData ?? USER_DATA).replace("$PROJECT_BUCKET", "booter-it-models")).toString("base64"),
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "SynktiCluster", Value: options.project ?? PROJECT }, { Key: "SynktiRole", Value: "worker" }] }],
    }),
  );
  return answer.Instances![0]!.InstanceId!;
}


const booted = (id: string) => until(`${id} to boot`, () => booter.instances().find((i) => i.instanceId === id));
const logSays = (instance: LocalInstance, text: string) => until(`"${text}" in ${instance.logFile}`, () => instance.log().includes(text), 30_000);
/** A zombie (dead, not yet reaped by whoever adopted it) counts as dead. */
const alive = (pid: number) => existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
const state = async (id: string) => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;

describe("booter", () => {
  it("runs the instance's own user-data with its IMDS, its loopback address and the contract's variables only", async () => {
    const id = await launch();
    const other = await launch({ project: "someone-else" });
    const instance = await booted(id);
    await logSays(instance, "user-data done");

    expect(instance.address).toMatch(new RegExp(`^${booter.subnet.replace(/\./g, "\\.")}\\.\\d+$`));
    const identity = JSON.parse(readFileSync(path.join(instance.dir, "usr-local-bin", "identity.json"), "utf8"));
    expect(identity).toMatchObject({ instanceId: id, privateIp: instance.address, availabilityZone: "us-east-1c", region: "us-east-1", instanceType: "g5.xlarge" });
    const env = Object.fromEntries(readFileSync(path.join(instance.dir, "usr-local-bin", "env.txt"), "utf8").trim().split("\n").map((l) => l.split(/=(.*)/s, 2)));
    expect(env).toMatchObject({ AWS_ENDPOINT_URL: moto.url, AWS_EC2_METADATA_SERVICE_ENDPOINT: instance.imds.url, SYNKTI_MODELS_DIR: path.join(instance.dir, "models") });
    expect(env.SYNKTI_MODEL_SERVER_COMMAND).toMatch(/vllm-standin-main\.ts serve \{model_dir\} --served-model-name \{model\} --host \{host\} --port \{port\}$/);
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined(); // credentials came from IMDS: the object was fetched
    expect(readFileSync(path.join(instance.dir, "models", "hello.txt"), "utf8")).toBe("hello from s3\n");
    expect(instance.imds.count("/latest/meta-data/iam/security-credentials/booter-role")).toBeGreaterThan(0);
    expect(booter.instances().map((i) => i.instanceId)).not.toContain(other);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [other] }));
  });

  it("kills every process of an instance moto terminates, a detached one too, and stops its emulator", async () => {
    const id = await launch();
    const instance = await booted(id);
    await logSays(instance, "user-data done");
    await until("the detached sleep", () => instance.processes().filter((p) => p.command === "sleep 300").length === 2);
    const pids = instance.processes().map((p) => p.pid);

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    // The exit is recorded only once everything is gone, the emulator included: checked at once, no race.
    await until("the instance to end", () => instance.exit);
    await expect(fetch(`${instance.imds.url}/latest/api/token`, { method: "PUT" })).rejects.toThrow();
    expect(instance.processes()).toEqual([]);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(instance.exit).toEqual({ code: null, signal: "SIGTERM" }); // sleep does not handle it: gone at the first signal
    expect(instance.state).toBe("ended");
    expect(instance.log()).toMatch(/ending: moto says (shutting-down|terminated)/);
    expect(events.some((e) => e.type === "ended" && e.instanceId === id)).toBe(true);
  });

  it("a terminate is an OS shutdown: SIGTERM, and a process that handles it finishes within the grace, never SIGKILLed", async () => {
    const id = await launch({ userData: GRACEFUL, profile: false });
    const instance = await booted(id);
    await logSays(instance, "serving");

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await until("the instance to end", () => instance.exit, 20_000 + GRACE_MS);
    expect(instance.exit).toEqual({ code: 0, signal: null });
    const log = instance.log();
    expect(log).toMatch(/SIGTERM to every process[^\n]*\nSIGTERM: draining\n(.*\n)*drained, exiting\n/);
    expect(log.match(/SIGTERM: draining/g)).toHaveLength(1); // once, as a shutdown sends it: a second one means "hurry" to some programs
    expect(log).toMatch(/every process exited \d+ ms after SIGTERM/);
    expect(log).not.toMatch(/SIGKILL to \d+/);
  });

  it("a process that ignores SIGTERM is SIGKILLed when the grace is over, a detached one too", async () => {
    const id = await launch({ userData: DEAF, profile: false });
    const instance = await booted(id);
    await logSays(instance, "ignoring SIGTERM");
    await until("both sleeps", () => instance.processes().filter((p) => p.command.startsWith("sleep 30")).length === 2);

    const terminated = Date.now();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await until("the instance to end", () => instance.exit, 20_000 + GRACE_MS);
    expect(Date.now() - terminated).toBeGreaterThanOrEqual(GRACE_MS);
    expect(instance.exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(instance.processes()).toEqual([]);
    const killed = new RegExp(`grace of ${GRACE_MS} ms over; SIGKILL to (.*)`).exec(instance.log())?.[1];
    expect(killed).toMatch(/\d+ \(sleep 300\)/);
    expect(killed).toMatch(/\d+ \(sleep 301\)/);
  });

  it("kill(): gone at once (no SIGTERM, no grace), without notice, and terminated in moto; during a shutdown it cuts the grace short", async () => {
    const id = await launch({ userData: DEAF, profile: false });
    const instance = await booted(id);
    await logSays(instance, "ignoring SIGTERM");
    await booter.kill(id);
    expect(instance.processes()).toEqual([]);
    expect(instance.exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(instance.log()).toContain("ending: killed without notice");
    expect(instance.log()).not.toContain("SIGTERM to every process");
    expect(instance.imds.count("/latest/meta-data/spot/instance-action")).toBe(0);
    expect(await state(id)).toMatch(/shutting-down|terminated/);

    // A grace that cannot run out during the test: the kill must be what ends the shutdown.
    await using patient = await Booter.start({ motoUrl: moto.url, project: "booter-patient", pollIntervalMs: 200, shutdownGraceMs: 600_000 });
    const other = await launch({ userData: DEAF, profile: false, project: "booter-patient" });
    const [shutting] = await patient.waitForInstances(1, 20_000);
    await logSays(shutting!, "ignoring SIGTERM");
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [other] }));
    await until("the SIGTERM", () => shutting!.log().includes("SIGTERM to every process"));
    expect(shutting!.state).toBe("shutting-down");
    await patient.kill(other);
    expect(shutting!.exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(shutting!.state).toBe("ended");
    expect(shutting!.log()).toMatch(/killed during the shutdown; SIGKILL to \d+/);
  });

  it("asking about an instance that is not running here names the running ones", async () => {
    const id = await launch({ userData: GRACEFUL, profile: false });
    const instance = await booted(id);
    expect(() => booter.injectRebalance("i-0000000000000dead")).toThrow(new RegExp(`^i-0000000000000dead is not an instance of this local cloud; running instances: .*${id} \\(${instance.address.replace(/\./g, "\\.")}\\)`));
    await booter.kill(id);
    expect(() => booter.injectSpotInterruption(id)).toThrow(new RegExp(`^${id} has ended; `));
    await expect(booter.kill(id)).rejects.toThrow(`${id} has ended`);
  });

  it("a spot notice shows in IMDS at once, and the instance is reclaimed when its time comes, with an OS shutdown's grace", async () => {
    const id = await launch({ userData: GRACEFUL });
    const instance = await booted(id);
    const notice = booter.injectSpotInterruption(id, { reclaimAfterMs: 1500 });
    expect(notice.action).toBe("terminate");
    const token = await (await fetch(`${instance.imds.url}/latest/api/token`, { method: "PUT", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" } })).text();
    const get = (p: string) => fetch(`${instance.imds.url}/latest/meta-data/${p}`, { headers: { "x-aws-ec2-metadata-token": token } });
    expect(await (await get("spot/instance-action")).json()).toEqual(notice);
    expect((await get("events/recommendations/rebalance")).status).toBe(404);
    booter.injectRebalance(id);
    expect((await get("events/recommendations/rebalance")).status).toBe(200);

    await until("the reclaim", () => instance.exit, 10_000 + GRACE_MS);
    expect(instance.exit).toEqual({ code: 0, signal: null }); // it got SIGTERM and its grace, not SIGKILL
    expect(instance.log()).toMatch(/ending: spot instance reclaimed\n.*SIGTERM to every process[^\n]*\nSIGTERM: draining\n/);
    expect(await state(id)).toMatch(/shutting-down|terminated/); // as on AWS: terminated in EC2 first
  });

  it("IMDS tags follow CreateTags; a failing user-data leaves a running instance with nothing on it", async () => {
    const id = await launch({ userData: "#!/bin/bash\necho 'refusing to run' >&2\nexit 3\n", profile: false });
    const instance = await booted(id);
    await until("user-data to exit", () => instance.exit);
    expect(instance.exit).toEqual({ code: 3, signal: null });
    expect(instance.log()).toContain("refusing to run");
    expect(await state(id)).toBe("running");
    expect(instance.imds.tags).toMatchObject({ SynktiCluster: PROJECT });

    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "SynktiPeer", Value: `${instance.address}:8080` }] }));
    await until("the tag in IMDS", () => instance.imds.tags?.SynktiPeer === `${instance.address}:8080`, 5000);
  });

  it("disposal ends every instance it booted", async () => {
    await using own = await Booter.start({ motoUrl: moto.url, project: "booter-dispose", pollIntervalMs: 200 });
    const id = await launch({ project: "booter-dispose" });
    const [instance] = await own.waitForInstances(1, 20_000);
    expect(instance!.instanceId).toBe(id);
    await until("the detached sleep", () => instance!.processes().length >= 2, 30_000);
    const root = own.root;
    await own.stop();
    expect(instance!.processes()).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });
});
