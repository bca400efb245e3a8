// `npm run bench`: prints figures, asserts nothing. Compare ratios measured within one run: the
// machines are shared and noisy, absolute times are not comparable across runs.
import { benchContext } from "./context.js";
import { benchFailoverOverhead } from "./failover.js";
import { benchFuzz } from "./fuzz.js";
import { benchZoneFallback } from "./fallback.js";
import { benchPreflight } from "./preflight.js";
import { benchRepair } from "./repair.js";
import { benchRepairBudget } from "./repair-budget.js";
import { benchStartup } from "./startup.js";
import { benchUpload } from "./upload.js";
import { benchWeightsFetch } from "./weights-fetch.js";
import { benchDiscoveryBudget, benchNoticeReaction } from "./worker.js";

const sections: Array<[string, () => Promise<string[]>]> = [
  ["start-up", () => benchStartup()],
  ["time to the deployer verdict", () => benchContext()],
  ["preflight wall time against its slowest observation (every AWS call delayed)", () => benchPreflight()],
  ["launch: zone fallback on InsufficientInstanceCapacity", () => benchZoneFallback()],
  ["weights upload throughput (synkti vs aws s3 cp, same files, same moto)", () => benchUpload()],
  ["weights fetch on a worker (synkti vs aws s3 cp + sha256sum vs moto's limit, same files, same moto)", () => benchWeightsFetch(3)],
  ["worker: spot notice injected -> shown on /status", () => benchNoticeReaction()],
  ["failover: synkti's own overhead, (notice -> RunInstances accepted) + (replacement healthy -> registered)", () => benchFailoverOverhead()],
  ["repair: silent death -> replacement launched, and -> serving minus the imposed boot (3 in-process members, production ask round)", () => benchRepair()],
  ["worker: cluster-wide DescribeInstances calls per minute against cluster size", () => benchDiscoveryBudget()],
  ["repair: cluster-wide EC2 calls per minute against cluster size (listings, plan refreshes, watcher checks, repairs)", () => benchRepairBudget()],
  ["fuzz: hostile command lines and environments against the built binary (no hang, no exit 4, no stack, nothing written)", () => benchFuzz()],
];

for (const [title, bench] of sections) {
  console.log(`\n== ${title}`);
  try {
    for (const line of await bench()) console.log(line);
  } catch (error) {
    console.log(`(failed: ${error instanceof Error ? error.message : String(error)})`);
  }
}
