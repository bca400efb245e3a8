/**
 * Repair of a silent death (issue 12): (kill without notice -> the survivors' RunInstances of its
 * replacement accepted) and (kill -> the replacement serving, minus the boot time this bench imposes),
 * p50/p95 over `runs` deaths.
 *
 * In-process agents against moto, each with its IMDS emulator (the integration harness, as the
 * failover bench), 3 members and desired 3, with the production watch and listing timings (ask
 * round 5 s, ask timeout 1 s, listings every 10 s at this size): the figure is the README's bound
 * ("ask round + ask timeout + one DescribeInstances + claim + RunInstances") as it is met, not a
 * test's fast timings. The runs are chained as a cluster lives: each kill takes a random member, the
 * bench starts an agent on the replacement moto launched (playing the instance's boot), and the
 * next kill waits until every member is watched and a random phase against the ask round.
 * A kill: TerminateInstances in moto and the agent stopped at once (its drain cut to 0.5 s: a dead
 * machine answers nothing). Imposed boot time, subtracted: launch -> the bench starting the agent
 * (its poll) + the model server stand-in's startup delay. What remains is synkti's: detection,
 * claim, launch, the agent's start-up, and its join (preflight, readiness, registration, tags).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateTagsCommand, DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { projectNames } from "../../src/infra/names.js";
import { DEFAULT_DISCOVERY_OPTIONS } from "../../src/worker/discovery/discovery.js";
import { MotoEc2 } from "../../test/support/booter/moto-ec2.js";
import { captureLogs, type LogLine } from "../../test/support/log-capture.js";
import { awsEnvFor, sdkConfigFor, startMoto } from "../../test/support/moto.js";
import { until } from "../../test/support/until.js";
import { IMAGE, USER_DATA } from "../../test/integration/worker/failover-world.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, weightsFolder, type RunningAgent } from "../../test/integration/worker/harness.js";
import { p50p95max } from "./measure.js";

const LAUNCHED = "replacement launched";
/** The model server stand-in's startup delay: the boot time a replacement is given here. */
const STARTUP_DELAY_MS = 1000;
const SIZE = 3;

interface Member {
  agent: RunningAgent;
  lines: LogLine[];
  stateDir: string;
}

export async function benchRepair(runs = 10): Promise<string[]> {
  await using moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  const ec2 = ec2For(moto.url);
  const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  const motoEc2 = new MotoEc2(moto.url);
  const project = `bench-rp-${process.pid}`;
  const modelsDir = weightsFolder();
  const members = new Map<string, Member>();
  const start = async (instanceId: string): Promise<Member> => {
    const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-bench-rp-"));
    const { log, lines } = captureLogs("info");
    const base = testOptions(project, modelsDir);
    const options = {
      ...base,
      env: { ...base.env, SYNKTI_STANDIN_STARTUP_DELAY_MS: String(STARTUP_DELAY_MS) },
      // Production watch and listings (testOptions has 0.3 s rounds and 0.5 s listings).
      discovery: { ...DEFAULT_DISCOVERY_OPTIONS, askTimeoutMs: 1000 },
      drain: { pollMs: 100, maxMs: 500, stopBudgetMs: 5000 },
      failover: { stateDir, healthBudgetMs: 120_000, healthPollMs: 1000, throttleBackoffMs: 200, failureMemoryMs: 600_000 },
    };
    const { tags, zone } = await describe(ec2, instanceId);
    const agent = await startAgent(project, instanceId, options, { log, imds: { userData: USER_DATA, imageId: IMAGE, availabilityZone: zone, tags: { SynktiCluster: project, SynktiRole: "worker", SynktiSlot: tags.SynktiSlot ?? "" } } });
    const member = { agent, lines, stateDir };
    members.set(instanceId, member);
    return member;
  };
  const toLaunch: number[] = [];
  const toServing: number[] = [];
  const toServingRaw: number[] = [];
  try {
    await createWorkerInfra(moto.url, project);
    const names = projectNames(project);
    await s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: names.desiredKey, Body: JSON.stringify({ workers: SIZE, setAt: new Date().toISOString() }) }));
    const first = await launchMembers(ec2, project, SIZE);
    for (const [slot, id] of first.entries()) await tagInstance(ec2, id, { SynktiSlot: String(slot) });
    await Promise.all(first.map(start));
    for (let run = 0; run < runs; run++) {
      await settled(members);
      await sleep(Math.random() * DEFAULT_DISCOVERY_OPTIONS.peerRoundMs); // a random phase against the ask round
      const ids = [...members.keys()];
      const victim = ids[Math.floor(Math.random() * ids.length)]!;
      const dead = members.get(victim)!;
      members.delete(victim);
      const killedAt = Date.now();
      await motoEc2.terminate(victim);
      const stopped = dead.agent.stop().finally(() => rmSync(dead.stateDir, { recursive: true, force: true }));
      const launched = await until(`a replacement of ${victim}`, () => {
        for (const m of members.values()) {
          const line = m.lines.find((l) => l.msg === LAUNCHED && l.at >= killedAt);
          if (line) return line;
        }
        return false;
      }, 120_000, 20);
      const replacement = launched.fields.instanceId as string;
      const bootStartedAt = Date.now();
      await start(replacement);
      const servedAt = await until(`${replacement} serving`, async () => {
        const servedAt = (await describe(ec2, replacement)).tags.SynktiServedAt;
        return servedAt ? Date.parse(servedAt) : false;
      }, 120_000, 100);
      await stopped;
      const imposed = bootStartedAt - launched.at + STARTUP_DELAY_MS;
      toLaunch.push(launched.at - killedAt);
      toServingRaw.push(servedAt - killedAt);
      toServing.push(servedAt - killedAt - imposed);
      const replacements = await replacementsOf(ec2, victim);
      if (replacements !== 1) throw new Error(`${victim} has ${replacements} replacements`);
    }
  } finally {
    await Promise.all([...members.values()].map(async (m) => { await m.agent.stop(); rmSync(m.stateDir, { recursive: true, force: true }); }));
    ec2.destroy();
    s3.destroy();
    motoEc2.close();
    rmSync(modelsDir, { recursive: true, force: true });
  }
  const f = (samples: number[]) => p50p95max(samples, 6);
  return [
    `${"silent death -> replacement's RunInstances accepted".padEnd(58)} ${f(toLaunch)}`,
    `${"silent death -> replacement serving, minus imposed boot".padEnd(58)} ${f(toServing)}`,
    `${"  (raw, with the boot: launch -> agent started + 1 s)".padEnd(58)} ${f(toServingRaw)}  (n=${toLaunch.length}; ${SIZE} members, ask round 5 s)`,
  ];
}

async function describe(ec2: EC2Client, instanceId: string): Promise<{ tags: Record<string, string>; zone: string }> {
  const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = answer.Reservations?.[0]?.Instances?.[0];
  return { tags: Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])), zone: instance?.Placement?.AvailabilityZone ?? "us-east-1a" };
}

async function tagInstance(ec2: EC2Client, instanceId: string, tags: Record<string, string>): Promise<void> {
  await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
}

async function replacementsOf(ec2: EC2Client, doomed: string): Promise<number> {
  const answer = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:SynktiReplaces", Values: [doomed] }] }));
  return (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).length;
}

/** Every member serves and is watched by another (a kill before that would time the join, not the watch). */
async function settled(members: Map<string, Member>): Promise<void> {
  await until("every member serving and watched", async () => {
    const docs = await Promise.all([...members.values()].map((m) => m.agent.status().catch(() => undefined)));
    if (docs.some((d) => d?.modelServer.state !== "healthy")) return false;
    const watched = new Set(docs.flatMap((d) => d?.repair?.watching ?? []));
    return [...members.keys()].every((id) => watched.has(id));
  }, 120_000, 250);
}

if (import.meta.filename === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 10);
  for (const l of await benchRepair(runs)) console.log(l);
}
