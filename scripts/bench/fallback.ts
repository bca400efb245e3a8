// Zone fallback on InsufficientInstanceCapacity: how long a launch of one worker takes when its
// first zone has no capacity. AWS answers HTTP 500, which the SDK's standard retries repeat in the
// same zone (with backoff) before the launch may move on; synkti's EC2 client skips those retries.
import { readFileSync } from "node:fs";
import path from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import type { AwsClients } from "../../src/aws/clients.js";
import { systemClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/log.js";
import { downProject, fleetDeps } from "../../src/deployer/fleet/index.js";
import { launchWorkers, resolveLaunchTarget } from "../../src/deployer/launch/index.js";
import { launchObservations, runDeployerPreflight } from "../../src/preflight/deployer/index.js";
import { readyProject, startHarness } from "../../test/integration/deployer/harness.js";
import { sdkConfigFor } from "../../test/support/moto.js";
import { fmt, percentile } from "./measure.js";

const TEMPLATE = readFileSync(path.resolve(import.meta.dirname, "../user-data.sh.tpl"), "utf8");

export async function benchZoneFallback(trials = 5): Promise<string[]> {
  const h = await startHarness();
  try {
    await readyProject(h, "bench-fallback");
    // As the CLI does: the target is built from what a SAFE preflight observed.
    const observed = new Map<string, unknown>();
    const report = await runDeployerPreflight({ clients: h.clients, clock: systemClock, onObserved: (id, o) => observed.set(id, o) }, { project: "bench-fallback", region: "us-east-1", model: "tiny-model" });
    if (report.verdict !== "SAFE") throw new Error(`preflight ${report.verdict}`);
    const target = resolveLaunchTarget(
      { project: "bench-fallback", model: "tiny-model", region: "us-east-1", instanceType: "g5.xlarge", userDataTemplate: TEMPLATE },
      launchObservations(observed),
      silentLogger,
    );
    // The launch starts in the least-loaded zone; with none running that is the first one.
    const first = Object.keys(target.subnets).sort()[0]!;
    h.proxy.addRule({ action: "ec2:RunInstances", when: (r) => r.params.SubnetId === target.subnets[first], error: "capacity" });
    // The same clients with the SDK's own EC2 client (standard retries, 3 attempts) in place of synkti's.
    const sdkDefault: AwsClients = { ...h.clients, ec2: async () => new EC2Client({ ...sdkConfigFor(h.proxy.url), maxAttempts: 3 }) };
    const variants: Array<[string, AwsClients]> = [
      ["synkti (capacity errors not retried)", h.clients],
      ["SDK standard retries", sdkDefault],
    ];
    const p50: Record<string, number> = {};
    const lines: string[] = [];
    for (const [label, clients] of variants) {
      const fleet = fleetDeps(clients, systemClock, silentLogger);
      const samples: number[] = [];
      for (let i = 0; i < trials; i++) {
        const start = performance.now();
        await launchWorkers(fleet, { target, workers: 1, concurrency: 1, pollIntervalMs: 100 });
        samples.push(performance.now() - start);
        await downProject(fleet, { project: "bench-fallback", intervalMs: 100 });
      }
      p50[label] = percentile(samples, 50);
      lines.push(`${label.padEnd(40)} p50 ${fmt(p50[label]!).padStart(10)}  max ${fmt(Math.max(...samples)).padStart(10)}  (n=${trials})`);
    }
    const [ours, theirs] = variants.map(([label]) => p50[label]!);
    lines.push(`ratio synkti / SDK retries: x${(ours! / theirs!).toFixed(2)} (launch of 1 worker whose first zone has no capacity)`);
    return lines;
  } finally {
    await h.close();
  }
}
