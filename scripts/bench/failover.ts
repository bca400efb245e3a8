/**
 * The failover's own overhead (issue 11): (spot notice -> the replacement's RunInstances accepted)
 * + (the replacement's model server healthy -> registered in the target group), p50/p95 over
 * `runs` failovers. Not the replacement's boot, weights or model load: those are AWS's and vLLM's.
 *
 * In-process agents against moto and an IMDS emulator each (the integration harness), not the full
 * cluster, so 20 runs are affordable. The runs are chained, as a cluster lives: the replacement of
 * run k, started as an agent on the instance moto launched, is the doomed worker of run k+1. The
 * worker's own interruption schedule (1 s poll) is kept, and each notice comes at a random phase
 * against it, as a real one does. Times are read off each agent's log lines (written when they happen).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_WATCHER_OPTIONS } from "../../src/worker/interruption/watcher.js";
import { MotoEc2 } from "../../test/support/booter/moto-ec2.js";
import { captureLogs, type LogLine } from "../../test/support/log-capture.js";
import { awsEnvFor, startMoto } from "../../test/support/moto.js";
import { until } from "../../test/support/until.js";
import { IMAGE, USER_DATA } from "../../test/integration/worker/failover-world.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, weightsFolder, type RunningAgent } from "../../test/integration/worker/harness.js";
import { p50p95max } from "./measure.js";

const LAUNCHED = "replacement launched";
const HEALTHY = "model server healthy";
const REGISTERED = "registered this instance with the load balancer's target group";

interface Chained {
  agent: RunningAgent;
  lines: LogLine[];
  stateDir: string;
}

export async function benchFailoverOverhead(runs = 20): Promise<string[]> {
  await using moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  const ec2 = ec2For(moto.url);
  const reclaim = new MotoEc2(moto.url);
  const project = `bench-fo-${process.pid}`;
  const modelsDir = weightsFolder();
  const line = (lines: LogLine[], msg: string) => lines.find((l) => l.msg === msg);
  const start = async (instanceId: string, zone: string): Promise<Chained> => {
    const stateDir = mkdtempSync(path.join(tmpdir(), "synkti-bench-fo-"));
    const { log, lines } = captureLogs("info");
    const options = {
      ...testOptions(project, modelsDir, { interruption: DEFAULT_WATCHER_OPTIONS }),
      failover: { stateDir, healthBudgetMs: 60_000, healthPollMs: 300, throttleBackoffMs: 200, failureMemoryMs: 600_000 },
    };
    const agent = await startAgent(project, instanceId, options, { log, imds: { userData: USER_DATA, imageId: IMAGE, availabilityZone: zone } });
    await until(`${instanceId} registered`, () => line(lines, REGISTERED) !== undefined, 60_000, 20);
    return { agent, lines, stateDir };
  };
  const noticeToLaunch: number[] = [];
  const healthyToRegistered: number[] = [];
  const totals: number[] = [];
  try {
    await createWorkerInfra(moto.url, project);
    const [first] = await launchMembers(ec2, project, 1);
    let current = await start(first!, "us-east-1a");
    for (let run = 0; run < runs; run++) {
      await sleep(Math.random() * DEFAULT_WATCHER_OPTIONS.intervalMs); // a random phase against the 1 s poll
      const noticeAt = Date.now();
      current.agent.imds.injectSpotInterruption();
      await until("the replacement launched", () => line(current.lines, LAUNCHED) !== undefined, 30_000, 10);
      const launched = line(current.lines, LAUNCHED)!;
      const replacement = launched.fields.instanceId as string;
      const zone = (launched.fields.pool as { zone: string }).zone;
      const next = await start(replacement, zone);
      const toLaunch = launched.at - noticeAt;
      const toRegistered = line(next.lines, REGISTERED)!.at - line(next.lines, HEALTHY)!.at;
      noticeToLaunch.push(toLaunch);
      healthyToRegistered.push(toRegistered);
      totals.push(toLaunch + toRegistered);
      // Retired once its replacement serves; then reclaimed, as AWS does (it stops being a peer).
      await until("the doomed worker retired", async () => (await current.agent.status()).failover.phase === "retired", 30_000, 100);
      await current.agent.stop();
      await reclaim.terminate(current.agent.instanceId);
      rmSync(current.stateDir, { recursive: true, force: true });
      current = next;
    }
    await current.agent.stop();
    rmSync(current.stateDir, { recursive: true, force: true });
  } finally {
    ec2.destroy();
    reclaim.close();
    rmSync(modelsDir, { recursive: true, force: true });
  }
  const f = (samples: number[]) => p50p95max(samples);
  return [
    `${"notice -> RunInstances accepted (1 s IMDS poll included)".padEnd(62)} ${f(noticeToLaunch)}`,
    `${"replacement healthy -> registered (auth check, RegisterTargets)".padEnd(62)} ${f(healthyToRegistered)}`,
    `${"the failover's own overhead, the sum per run".padEnd(62)} ${f(totals)}  (n=${totals.length}; aim: under 2 s)`,
  ];
}

if (import.meta.filename === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 20);
  for (const l of await benchFailoverOverhead(runs)) console.log(l);
}
