/**
 * Launch, status, down and leaks with the real SDK against moto (through the fault proxy): the
 * whole life of a fleet, a capacity failure in one zone, and a launch undone halfway.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { CreateVolumeCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/clock.js";
import { isSynktiError } from "../../../src/core/errors.js";
import { silentLogger } from "../../../src/core/log.js";
import { downProject, findLeaks, fleetStatus } from "../../../src/deployer/fleet/index.js";
import { launchWorkers, resolveLaunchTarget, type LaunchTarget } from "../../../src/deployer/launch/index.js";
import { launchObservations, runDeployerPreflight } from "../../../src/preflight/deployer/index.js";
import { infraStatus } from "../../../src/infra/status.js";
import { BINARY_BYTES, readyProject, sha256, startHarness, type Harness } from "./harness.js";

const TEMPLATE = readFileSync(path.resolve(import.meta.dirname, "../../../scripts/user-data.sh.tpl"), "utf8");
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => h.proxy.clearRules());

/** As the CLI does: a SAFE preflight, then the target built from what it observed (once per project). */
const targets = new Map<string, Promise<LaunchTarget>>();
const target = (project: string) => {
  if (!targets.has(project)) targets.set(project, (async () => {
    const observed = new Map<string, unknown>();
    const report = await runDeployerPreflight({ clients: h.clients, clock: systemClock, onObserved: (id, o) => observed.set(id, o) }, { project, region: "us-east-1", model: "tiny-model" });
    expect(report.verdict, JSON.stringify(report.requirements.filter((r) => r.status !== "pass"))).toBe("SAFE");
    return resolveLaunchTarget({ project, model: "tiny-model", region: "us-east-1", instanceType: "g5.xlarge", userDataTemplate: TEMPLATE }, launchObservations(observed), silentLogger);
  })());
  return targets.get(project)!;
};
const launch = async (project: string, workers: number, extra: { concurrency?: number } = {}) =>
  launchWorkers(h.fleet, { target: await target(project), workers, pollIntervalMs: 200, ...extra });
const instances = async (ids: string[]) =>
  (await h.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances ?? []);

describe("the life of a fleet against moto", () => {
  it("launch 3 -> status lists 3 -> launch again launches nothing -> down -> 0; permanent resources intact", async () => {
    const names = await readyProject(h, "it-cycle");
    const first = await launch("it-cycle", 3);
    expect(first.launched).toHaveLength(3);
    expect(new Set(first.launched.map((l) => l.availabilityZone)).size).toBe(3);

    // What AWS got: spot one-time, IMDSv2 only with metadata tags, the profile, the group, the tags.
    const ids = first.launched.map((l) => l.instanceId);
    expect(await instances(ids)).toHaveLength(3);
    for (const i of await instances(ids)) {
      expect(i.InstanceLifecycle).toBe("spot");
      expect(i.MetadataOptions).toMatchObject({ HttpTokens: "required", HttpPutResponseHopLimit: 1, InstanceMetadataTags: "enabled" });
      expect(i.IamInstanceProfile?.Arn).toContain(names.instanceProfile);
      expect(i.SecurityGroups?.map((g) => g.GroupName)).toEqual([names.securityGroup]);
      expect(Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ SynktiCluster: "it-cycle", SynktiRole: "worker", SynktiLaunch: first.launchId });
    }
    const attribute = await h.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: ids[0], Attribute: "userData" }));
    const userData = Buffer.from(attribute.UserData?.Value ?? "", "base64").toString("utf8");
    expect(userData).toContain(`BINARY_SHA256='${sha256(BINARY_BYTES)}'`);
    const volumes = await h.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:SynktiLaunch", Values: [first.launchId!] }] }));
    expect(volumes.Volumes).toHaveLength(3);
    // The root volume holds the image (moto's Deep Learning AMI: 15 GiB), the weights (<1 GiB here,
    // rounded up) and 20 GiB of headroom, on gp3: a weights sync never runs out of disk.
    for (const v of volumes.Volumes ?? []) expect(v).toMatchObject({ Size: 15 + 1 + 20, VolumeType: "gp3" });

    expect((await fleetStatus(h.fleet, "it-cycle")).workers.map((w) => w.instanceId).sort()).toEqual([...ids].sort());

    h.proxy.resetCounts();
    const again = await launch("it-cycle", 3);
    expect(again).toMatchObject({ launchId: null, launched: [], existing: 3 });
    expect(h.proxy.counts()["ec2:RunInstances"]).toBeUndefined();

    const down = await downProject(h.fleet, { project: "it-cycle", intervalMs: 200 });
    expect(down).toMatchObject({ remaining: [], error: null });
    expect(down.terminated.sort()).toEqual([...ids].sort());
    expect((await fleetStatus(h.fleet, "it-cycle")).workers).toEqual([]);
    expect((await findLeaks(h.fleet, "it-cycle")).leaks).toEqual([]);

    // Down touched instances only: the permanent resources and the bucket's content are all there.
    const infra = await infraStatus({ clients: h.clients, log: silentLogger, clock: systemClock }, names);
    expect(infra.resources.filter((r) => r.state !== "present")).toEqual([]);
    await h.s3.send(new HeadObjectCommand({ Bucket: names.bucket, Key: names.binaryKey }));
  });

  it("InsufficientInstanceCapacity in us-east-1a moves the worker to another zone, and says so", async () => {
    await readyProject(h, "it-capacity");
    const t = await target("it-capacity");
    const subnetA = t.subnets["us-east-1a"];
    const rule = h.proxy.addRule({
      action: "ec2:RunInstances",
      when: (r) => r.params.SubnetId === subnetA || r.params["Placement.AvailabilityZone"] === "us-east-1a",
      error: "capacity",
    });
    const result = await launchWorkers(h.fleet, { target: t, workers: 3, concurrency: 1, pollIntervalMs: 200 });
    // AWS answers 500, which the SDK would retry in the same zone; synkti asks once and moves on.
    expect(h.proxy.ruleHits(rule)).toBe(1);
    expect(result.fallbacks).toEqual([{ from: "us-east-1a", to: expect.stringMatching(/^us-east-1[b-f]$/), error: "InsufficientInstanceCapacity" }]);
    expect(result.launched).toHaveLength(3);
    expect(result.launched.map((l) => l.availabilityZone)).not.toContain("us-east-1a");
    await downProject(h.fleet, { project: "it-capacity", intervalMs: 200 });
  });

  it("a throttled RunInstances is still retried (only capacity errors skip the SDK's retries)", async () => {
    await readyProject(h, "it-throttled");
    const rule = h.proxy.addRule({ action: "ec2:RunInstances", error: "throttle", times: 1 });
    const result = await launchWorkers(h.fleet, { target: await target("it-throttled"), workers: 1, concurrency: 1, pollIntervalMs: 200 });
    expect(h.proxy.ruleHits(rule)).toBe(1);
    expect(result.launched).toHaveLength(1);
    expect(result.fallbacks).toEqual([]);
    await downProject(h.fleet, { project: "it-throttled", intervalMs: 200 });
  });

  it("a launch that fails halfway terminates what it launched and leaves earlier workers alone", async () => {
    await readyProject(h, "it-undo");
    const earlier = await launch("it-undo", 1);
    let calls = 0;
    h.proxy.addRule({ action: "ec2:RunInstances", when: () => ++calls === 3, error: "access-denied" });
    const error = await launch("it-undo", 4, { concurrency: 1 }).then(() => undefined, (e: unknown) => e);
    expect(isSynktiError(error) && error.kind).toBe("unobservable");
    expect(String((error as Error).message)).toMatch(/UnauthorizedOperation.*Undid launch l-\S+: terminated i-\w+, i-\w+; nothing else was touched/);
    const live = (await fleetStatus(h.fleet, "it-undo")).workers.filter((w) => w.state !== "shutting-down");
    expect(live.map((w) => w.instanceId)).toEqual([earlier.launched[0]!.instanceId]);
    await downProject(h.fleet, { project: "it-undo", intervalMs: 200 });
  });

  it("leaks: an unattached volume tagged with the project is reported with its fix", async () => {
    const out = await h.ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 8, TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "SynktiCluster", Value: "it-leaks" }] }] }),
    );
    const { leaks } = await findLeaks(h.fleet, "it-leaks", "us-east-1");
    expect(leaks).toEqual([
      { kind: "volume", id: out.VolumeId, state: "available", reason: expect.stringMatching(/unattached/), fix: `aws ec2 delete-volume --volume-id ${out.VolumeId} --region us-east-1` },
    ]);
  });
});
