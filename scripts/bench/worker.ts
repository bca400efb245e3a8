/**
 * Worker agent benches (wired into `npm run bench` by the lead):
 * - benchNoticeReaction: spot notice -> visible on the agent's /status, p50/p99, in-process agent
 *   against moto, an IMDS emulator and the vLLM stand-in (the same harness as the integration tests).
 * - benchDiscoveryBudget: DescribeInstances calls per minute of a whole cluster of 10, 100 and 1000
 *   in-process discovery agents, counted by the fault proxy in front of moto, which holds that many
 *   real instances. Time is virtual (FakeClock): each simulated second wakes the agents that are due,
 *   then waits for their real calls to moto to finish, so a simulated minute costs only the calls
 *   themselves (moto takes ~1 s to list 1000 instances) and the figure does not depend on load.
 */
import { createAwsClients } from "../../src/aws/clients.js";
import { createEc2Peers, type Ec2Peers } from "../../src/aws/ec2-peers.js";
import { silentLogger } from "../../src/core/log.js";
import { Discovery } from "../../src/worker/discovery/discovery.js";
import { DEFAULT_DISCOVERY_BUDGET, listingIntervalMs } from "../../src/worker/discovery/budget.js";
import { workerSelector } from "../../src/infra/names.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { startFaultProxy } from "../../test/support/fault-proxy.js";
import { awsEnvFor, startMoto } from "../../test/support/moto.js";
import { createWorkerInfra, ec2For, launchMembers, startAgent, testOptions, weightsFolder } from "../../test/integration/worker/harness.js";
import { percentile } from "./measure.js";
import { seededRandom } from "../../test/support/seeded-random.js";

/** Inject a notice into the agent's IMDS, poll /status every 10 ms until it shows; repeat. */
export async function benchNoticeReaction(trials = 20): Promise<string[]> {
  await using moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  const ec2 = ec2For(moto.url);
  const project = `bench-notice-${process.pid}`;
  await createWorkerInfra(moto.url, project);
  const [id] = await launchMembers(ec2, project, 1);
  const agent = await startAgent(project, id!, testOptions(project, weightsFolder()));
  const samples: number[] = [];
  try {
    await agent.endpoint;
    let lastTime = "";
    for (let i = 0; i < trials; i++) {
      // A notice is de-duplicated by content, and its time has 1 s resolution: wait for a new second.
      while (new Date(Date.now() + 120_000).toISOString().slice(0, 19) === lastTime.slice(0, 19)) await sleep(20);
      // A random phase against the agent's 1 s schedule, as a real notice has.
      await sleep(Math.random() * 1000);
      const started = performance.now();
      const notice = agent.imds.injectSpotInterruption();
      lastTime = notice.time;
      for (;;) {
        const shown = (await agent.status()).interruption.notice;
        if (shown?.time === notice.time) break;
        await sleep(10);
      }
      samples.push(performance.now() - started);
    }
  } finally {
    await agent.stop();
    ec2.destroy();
  }
  const f = (p: number) => `${percentile(samples, p).toFixed(0)} ms`;
  return [`spot notice -> on /status (poll every 1 s, 500 ms deadline): p50 ${f(50)}  p99 ${f(99)}  max ${f(100)}  (n=${samples.length})`];
}

/** DescribeInstances calls per simulated minute for clusters of each size, in steady state. */
/**
 * moto takes ~4 s to list 1000 instances on these machines (3 MB of XML), so the 1000-member run
 * simulates one minute (~30 calls, ~2.5 min real) and the smaller ones three.
 */
export async function benchDiscoveryBudget(sizes = [10, 100, 1000], minutesFor = (n: number) => (n >= 1000 ? 1 : 3)): Promise<string[]> {
  const budgetPerMinute = DEFAULT_DISCOVERY_BUDGET.clusterCallsPerSecond * 60;
  const lines = [`budget: ${budgetPerMinute} DescribeInstances calls/min for the whole cluster; interval per member max(10 s, N*pages/${DEFAULT_DISCOVERY_BUDGET.clusterCallsPerSecond}/s)`];
  await using moto = await startMoto();
  await using proxy = await startFaultProxy({ target: moto.url });
  Object.assign(process.env, awsEnvFor(proxy.url));
  const ec2 = ec2For(moto.url);
  try {
    for (const n of sizes) {
      const project = `bench-disc-${n}-${process.pid}`;
      await launchMembers(ec2, project, n);
      const started = performance.now();
      const { perMinute, joinPages } = await simulateCluster(project, n, minutesFor(n), () => proxy.counts()["ec2:DescribeInstances"] ?? 0, proxy.resetCounts);
      const mean = perMinute.reduce((a, b) => a + b, 0) / perMinute.length;
      const interval = listingIntervalMs(n, joinPages) / 1000;
      lines.push(
        `N=${String(n).padStart(4)}: ${mean.toFixed(1).padStart(5)} calls/min (per minute: ${perMinute.join(", ")}), each member every ${interval} s, ${joinPages} page(s) a listing; ${((performance.now() - started) / 1000).toFixed(1)} s real`,
      );
    }
  } finally {
    ec2.destroy();
  }
  lines.push("(steady state: agents start from a shared listing; joining costs each member one listing once)");
  return lines;
}

async function simulateCluster(project: string, n: number, minutes: number, described: () => number, resetCounts: () => void) {
  const clock = new FakeClock();
  const peers = createEc2Peers(createAwsClients({ role: "worker", region: "us-east-1", maxAttempts: 1 }));
  const seed = await peers.listRunning(workerSelector(project));
  let inFlight = new Set<Promise<unknown>>();
  const counted: Ec2Peers = {
    ...peers,
    listRunning: (tags, signal) => {
      const call = peers.listRunning(tags, signal);
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call)).catch(() => {});
      return call;
    },
  };
  const random = seededRandom(n);
  const askPeer = async () => Promise.reject(new Error("the budget bench runs no status endpoints"));
  const controller = new AbortController();
  const agents = seed.instances.map((i) => {
    const agent = new Discovery({ ec2: counted, clock, log: silentLogger, random, askPeer }, { project, self: i.instanceId, budget: DEFAULT_DISCOVERY_BUDGET, peerRoundMs: 5000, fanout: 8 });
    agent.seed(seed.instances, clock.now());
    return agent;
  });
  resetCounts();
  const loops = agents.map((a) => a.runListings(controller.signal));
  const perMinute: number[] = [];
  for (let m = 0; m < minutes; m++) {
    const before = described();
    for (let s = 0; s < 60; s++) {
      await clock.advance(1000);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    }
    perMinute.push(described() - before);
  }
  controller.abort();
  await Promise.all(loops);
  inFlight = new Set();
  return { perMinute, joinPages: seed.calls };
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchNoticeReaction()) console.log(line);
  for (const line of await benchDiscoveryBudget()) console.log(line);
}
