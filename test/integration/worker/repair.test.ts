/**
 * Issue 12 on in-process workers against moto (behind the fault proxy): a silent death is repaired
 * exactly once, by a claim and a launch through the failover's spawn path; a peer that only does
 * not answer (EC2 says running) causes no launch; a scale-down retires the surplus worker through
 * the load balancer; the failover on a spot notice claims its slot before its launch.
 * Members without an agent are plain moto instances tagged as serving workers, whose endpoint is a
 * closed port: they never answer an ask, like a partitioned (or dead) worker.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateTagsCommand, DescribeInstancesCommand, TerminateInstancesCommand, type Instance } from "@aws-sdk/client-ec2";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { createAwsClients } from "../../../src/aws/clients.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import { downProject } from "../../../src/deployer/fleet/down.js";
import { fleetDeps } from "../../../src/deployer/fleet/deps.js";
import { projectNames } from "../../../src/infra/names.js";
import { REPAIR_GRACE_MS } from "../../../src/repair/constants.js";
import type { WorkerOptions } from "../../../src/worker/index.js";
import { closedPort } from "../../support/free-port.js";
import { failoverWorld, IMAGE, isLive, tagsOf, USER_DATA } from "./failover-world.js";
import { createWorkerInfra, launchMembers, randomLoopback, startAgent, until } from "./harness.js";

const world = failoverWorld("rp-it", { iamProof: true });
const { name, targetIds } = world;

/** Fast repair timings for a test: desired.json every 0.3 s. */
function repairOptions(p: string, extra: Partial<WorkerOptions> = {}): WorkerOptions {
  const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-rp-state-"));
  return { ...world.options(p, stateDir), repair: { desiredPollMs: 300 }, ...extra };
}

async function putDesired(p: string, workers: number, setAt = new Date().toISOString()): Promise<void> {
  await world.s3.send(new PutObjectCommand({ Bucket: projectNames(p).bucket, Key: projectNames(p).desiredKey, Body: JSON.stringify({ workers, setAt }) }));
}

async function tag(id: string, tags: Record<string, string>): Promise<void> {
  await world.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
}

/** A worker without an agent: tagged serving in `slot`, its endpoint a port where nothing listens. */
async function silentMember(p: string, slot: number): Promise<string> {
  const [id] = await launchMembers(world.ec2, p, 1);
  const host = randomLoopback();
  await tag(id!, { SynktiSlot: String(slot), SynktiState: "serving", SynktiServedAt: new Date().toISOString(), SynktiEndpoint: `${host}:${await closedPort(host)}` });
  return id!;
}

/** An agent on a fresh moto instance in `slot`. */
async function agentInSlot(p: string, slot: number, options: WorkerOptions) {
  const [id] = await launchMembers(world.ec2, p, 1);
  await tag(id!, { SynktiSlot: String(slot) });
  const agent = await startAgent(p, id!, options, { imds: { userData: USER_DATA, imageId: IMAGE, tags: { SynktiCluster: p, SynktiRole: "worker", SynktiSlot: String(slot) } } });
  return { id: id!, agent };
}

async function instancesOf(p: string): Promise<Instance[]> {
  const out = await world.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiCluster", Values: [p] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

async function claimsOf(p: string): Promise<string[]> {
  const out = await world.s3.send(new ListObjectsV2Command({ Bucket: projectNames(p).bucket, Prefix: projectNames(p).claimsPrefix }));
  return (out.Contents ?? []).map((o) => o.Key!.slice(projectNames(p).claimsPrefix.length));
}

async function readJson(p: string, key: string): Promise<Record<string, unknown>> {
  const out = await world.s3.send(new GetObjectCommand({ Bucket: projectNames(p).bucket, Key: key }));
  return JSON.parse(await out.Body!.transformToString()) as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("repair of silent deaths (in-process workers, moto)", () => {
  it("a watched peer that does not answer while EC2 says running: EC2 checks, no launch; once EC2 says terminated: exactly one replacement in its slot", async () => {
    const p = name();
    await createWorkerInfra(world.moto.url, p);
    await putDesired(p, 2);
    const silent = await silentMember(p, 1);
    // The watch's EC2 checks of the silent member (DescribeInstances InstanceIds=[id]).
    const checks: number[] = [];
    const witness = world.proxy.addRule({ action: "ec2:DescribeInstances", when: (r) => (r.params["InstanceId.1"] === silent && checks.push(Date.now()), false) });
    const { agent, id } = await agentInSlot(p, 0, repairOptions(p));
    try {
      await until("the agent watches the silent member and EC2 has been asked about it", async () => checks.length >= 1 && (await agent.status()).repair?.watching.includes(silent), 20_000);
      // A partition, not a death: ask rounds (every 0.3 s) keep failing, EC2 said running: nothing
      // launched, and EC2 is not asked again every round (a re-check waits 30 s).
      await sleep(3000);
      expect((await instancesOf(p)).filter(isLive).map((i) => i.InstanceId).sort()).toEqual([id, silent].sort());
      expect(await claimsOf(p)).toEqual([]);
      expect(checks).toHaveLength(1);
      expect((await agent.status()).repair?.checks).toBe(1);

      await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: [silent] }));
      const replacement = await until("one replacement in the dead member's slot", async () => (await instancesOf(p)).find((i) => isLive(i) && tagsOf(i).SynktiReplaces !== undefined), 20_000);
      expect(tagsOf(replacement)).toMatchObject({ SynktiCluster: p, SynktiRole: "worker", SynktiSlot: "1", SynktiReplaces: silent, SynktiLaunch: `r-${silent}`, SynktiState: "booting" });
      expect(replacement.ImageId).toBe(IMAGE);
      expect(await claimsOf(p)).toEqual([`1-${silent}`]);
      expect(await readJson(p, projectNames(p).claimKey(1, silent))).toMatchObject({ slot: 1, cause: silent, claimer: id, attempt: 1 });
      // Listings and checks go on (every 0.5 s); the slot is held by the replacement: no second launch.
      await sleep(3000);
      expect((await instancesOf(p)).filter((i) => tagsOf(i).SynktiReplaces !== undefined)).toHaveLength(1);
      const status = await agent.status();
      expect(status.repair).toMatchObject({ active: true, desired: 2, slot: 0, paused: false, claims: [{ name: `1-${silent}`, slot: 1, cause: silent, phase: "running", replacement: replacement.InstanceId }] });
    } finally {
      world.proxy.removeRule(witness);
      await agent.stop();
    }
  }, 90_000);

  it("a serving peer dies without a word while listings are 10 minutes apart: its watcher sees it within seconds and one replacement takes its slot", async () => {
    const p = name();
    await createWorkerInfra(world.moto.url, p);
    await putDesired(p, 2);
    // A's instance first: B's census must see slot 0 held, or B would (rightly) fill it.
    const [aId] = await launchMembers(world.ec2, p, 1);
    await tag(aId!, { SynktiSlot: "0" });
    const b = await agentInSlot(p, 1, repairOptions(p));
    await until("B published its endpoint", async () => (await instancesOf(p)).some((i) => i.InstanceId === b.id && tagsOf(i).SynktiEndpoint), 20_000);
    // A lists once on joining, then not for ~10 minutes: only the watch can see B die.
    const slow = repairOptions(p);
    slow.discovery = { ...slow.discovery, budget: { ...slow.discovery.budget, minIntervalMs: 600_000, maxIntervalMs: 600_000 } };
    const a = await startAgent(p, aId!, slow, { random: () => 0.99, imds: { userData: USER_DATA, imageId: IMAGE } });
    try {
      await until("A watches B and B answers it", async () => {
        const status = await a.status();
        return status.repair?.watching.includes(b.id) && status.peers.some((peer) => peer.instanceId === b.id && peer.health === "healthy");
      }, 20_000);
      const listingsBefore = (await a.status()).discovery.describeCalls;
      await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: [b.id] }));
      await b.agent.stop();
      const diedAt = Date.now();
      const replacement = await until("a replacement in B's slot", async () => (await instancesOf(p)).find((i) => isLive(i) && tagsOf(i).SynktiReplaces === b.id), 20_000);
      expect(Date.now() - diedAt).toBeLessThan(15_000);
      expect(tagsOf(replacement).SynktiSlot).toBe("1");
      expect((await a.status()).discovery.describeCalls).toBe(listingsBefore); // no listing did it
      expect(await claimsOf(p)).toEqual([`1-${b.id}`]);
    } finally {
      await a.stop();
    }
  }, 90_000);

  it("two workers see one dead member's slot empty: exactly one claim and one launch", async () => {
    const p = name();
    await createWorkerInfra(world.moto.url, p);
    await putDesired(p, 3);
    const dead = await silentMember(p, 2);
    await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: [dead] }));
    const runs: string[] = [];
    const witness = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => (r.params["DryRun"] !== "true" && runs.push(r.params["ClientToken"] ?? ""), false) });
    const [a, b] = await Promise.all([agentInSlot(p, 0, repairOptions(p)), agentInSlot(p, 1, repairOptions(p))]);
    try {
      await until("a replacement in slot 2", async () => (await instancesOf(p)).some((i) => isLive(i) && tagsOf(i).SynktiSlot === "2"), 30_000);
      // The later repairer's turn (one grace, 15 s) comes and goes: it sees the slot held.
      await sleep(REPAIR_GRACE_MS + 2_000);
      const inSlot2 = (await instancesOf(p)).filter((i) => isLive(i) && tagsOf(i).SynktiSlot === "2");
      expect(inSlot2).toHaveLength(1);
      expect(runs).toHaveLength(1);
      expect(await claimsOf(p)).toEqual([`2-${dead}`]);
      const claimer = (await readJson(p, projectNames(p).claimKey(2, dead))).claimer;
      expect([a.id, b.id]).toContain(claimer);
    } finally {
      world.proxy.removeRule(witness);
      await Promise.all([a.agent.stop(), b.agent.stop()]);
    }
  }, 120_000);

  it("a lower desired size: the surplus worker leaves the target group, then terminates itself; nothing is launched", async () => {
    const p = name();
    const { targetGroupArn } = await createWorkerInfra(world.moto.url, p);
    await putDesired(p, 2);
    await silentMember(p, 0);
    const { agent, id } = await agentInSlot(p, 1, repairOptions(p, { dryRun: false }));
    try {
      await until("the worker serves", async () => (await targetIds(targetGroupArn)).includes(id), 30_000);
      await putDesired(p, 1);
      await until("the surplus worker left the target group", async () => !(await targetIds(targetGroupArn)).includes(id), 20_000);
      const self = await until("the surplus worker terminated itself", async () => (await instancesOf(p)).find((i) => i.InstanceId === id && !isLive(i)), 30_000);
      expect(["shutting-down", "terminated"]).toContain(self.State?.Name);
      expect(agent.tagWrites.map((t) => t.SynktiState).filter(Boolean)).toEqual(["booting", "serving", "retiring"]); // retiring first: it holds no slot while it drains
      expect((await instancesOf(p)).filter((i) => tagsOf(i).SynktiReplaces !== undefined)).toEqual([]);
      expect(await claimsOf(p)).toEqual([]);
    } finally {
      await agent.stop();
    }
  }, 90_000);

  it("a spot notice on a worker the desired size no longer wants (a scale-down, or synkti down's 0): no claim, no replacement", async () => {
    const p = name();
    const { targetGroupArn } = await createWorkerInfra(world.moto.url, p);
    await putDesired(p, 2);
    await silentMember(p, 0);
    const { agent, id } = await agentInSlot(p, 1, repairOptions(p));
    try {
      await until("the worker serves", async () => (await targetIds(targetGroupArn)).includes(id), 30_000);
      await putDesired(p, 1);
      await until("the worker read the lower size", async () => (await agent.status()).repair?.desired === 1, 10_000);
      agent.imds.injectSpotInterruption();
      const ended = await until("the failover gave up on launching", async () => {
        const status = await agent.status();
        return status.failover.phase !== "idle" && status.failover.phase !== "running" && status.failover;
      }, 20_000);
      expect(JSON.stringify(ended)).toMatch(/refused/);
      expect(await world.replacementsOf(id)).toEqual([]);
      expect(await claimsOf(p)).toEqual([]);
    } finally {
      await agent.stop();
    }
  }, 90_000);

  it("the failover on a spot notice claims <slot>-<its id> before launching", async () => {
    const p = name();
    const { targetGroupArn } = await createWorkerInfra(world.moto.url, p);
    await putDesired(p, 1);
    const { agent, id } = await agentInSlot(p, 0, repairOptions(p));
    try {
      await until("the worker serves", async () => (await targetIds(targetGroupArn)).includes(id), 30_000);
      agent.imds.injectSpotInterruption();
      const replacement = await until("the failover's replacement", async () => (await world.replacementsOf(id))[0], 15_000);
      expect(tagsOf(replacement)).toMatchObject({ SynktiSlot: "0", SynktiReplaces: id });
      expect(await claimsOf(p)).toEqual([`0-${id}`]);
      expect(await readJson(p, projectNames(p).claimKey(0, id))).toMatchObject({ slot: 0, cause: id, claimer: id });
    } finally {
      await agent.stop();
    }
  }, 90_000);

  it("a failover whose claim another member holds launches nothing", async () => {
    const q = name();
    const infra = await createWorkerInfra(world.moto.url, q);
    await putDesired(q, 1);
    const other = await agentInSlot(q, 0, repairOptions(q));
    try {
      await until("the worker serves", async () => (await targetIds(infra.targetGroupArn)).includes(other.id), 30_000);
      await world.s3.send(new PutObjectCommand({ Bucket: projectNames(q).bucket, Key: projectNames(q).claimKey(0, other.id), Body: JSON.stringify({ slot: 0, cause: other.id, claimer: "i-0someoneelse0000", at: new Date().toISOString(), attempt: 1 }) }));
      other.agent.imds.injectSpotInterruption();
      const ended = await until("the failover gave up on launching", async () => {
        const status = await other.agent.status();
        return status.failover.phase !== "idle" && status.failover.phase !== "running" && status.failover;
      }, 20_000);
      expect(JSON.stringify(ended)).toMatch(/refused/);
      expect(await world.replacementsOf(other.id)).toEqual([]);
    } finally {
      await other.agent.stop();
    }
  }, 120_000);

  it("synkti down with every CreateTags refused (no stop marker on anyone) while a worker dies: desired 0 first, every instance terminated, and the survivor launches no replacement", async () => {
    world.notWorkerOnly(); // the deployer's down runs in process, through the same proxy
    const p = name();
    const { targetGroupArn } = await createWorkerInfra(world.moto.url, p);
    await putDesired(p, 2);
    const [a, b] = await Promise.all([agentInSlot(p, 0, repairOptions(p)), agentInSlot(p, 1, repairOptions(p))]);
    const runs: string[] = [];
    const witness = world.proxy.addRule({ action: "ec2:RunInstances", when: (r) => (r.params["DryRun"] !== "true" && runs.push(r.params["ClientToken"] ?? ""), false) });
    const refused = world.proxy.addRule({ action: "ec2:CreateTags", error: "access-denied" });
    // Down's TerminateInstances takes 5 s: A outlives B by that much, as one instance of a fleet
    // can outlive another on AWS, and watches B die meanwhile.
    const slowTerminate = world.proxy.addRule({ action: "ec2:TerminateInstances", delayMs: 5000, times: 1 });
    try {
      await until("both workers watch each other", async () => {
        const [sa, sb] = await Promise.all([a.agent.status(), b.agent.status()]);
        return sa.repair?.watching.includes(b.id) && sb.repair?.watching.includes(a.id) && (await targetIds(targetGroupArn)).length === 2;
      }, 30_000);
      // The deployer's own down, as `synkti down` runs it. Once it set desired 0, B dies without a
      // word (no stop marker either: CreateTags is refused): A sees its slot empty through EC2, and
      // only the desired size keeps it from repairing what down is emptying.
      const downing = downProject(fleetDeps(createAwsClients({ role: "deployer", maxAttempts: 3 }), systemClock, silentLogger), { project: p, intervalMs: 200, drainIntervalMs: 200 });
      await until("down set desired 0", async () => (await readJson(p, projectNames(p).desiredKey)).workers === 0, 20_000, 50);
      await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: [b.id] }));
      await b.agent.stop();
      const down = await downing;
      expect(world.proxy.ruleHits(refused)).toBeGreaterThan(0);
      expect(world.proxy.ruleHits(slowTerminate)).toBe(1);
      expect(down).toMatchObject({ desired: { workers: 0 }, desiredProblem: null, remaining: [], error: null });
      expect(down.found.map((f) => f.instanceId).sort()).toEqual([a.id, b.id].sort());
      expect(down.terminated).toContain(a.id); // B was gone by then
      expect((await a.agent.status()).repair?.desired).toBe(0);
      // A repairer's first turn is at once, a second one's after one grace (15 s): past both.
      await sleep(REPAIR_GRACE_MS + 1_000);
      expect(runs).toEqual([]);
      expect(await claimsOf(p)).toEqual([]);
      expect((await instancesOf(p)).filter(isLive)).toEqual([]);
    } finally {
      for (const rule of [refused, witness, slowTerminate]) world.proxy.removeRule(rule);
      await Promise.all([a.agent.stop(), b.agent.stop()]);
    }
  }, 120_000);
});
