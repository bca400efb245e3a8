// `npm run bench`: prints figures, asserts nothing. Compare ratios measured within one run: the
// machines are shared and noisy, absolute times are not comparable across runs.
import { benchContext } from "./context.js";
import { benchStartup } from "./startup.js";
import { benchUpload } from "./upload.js";

const sections: Array<[string, () => Promise<string[]>]> = [
  ["start-up", () => benchStartup()],
  ["time to the deployer verdict", () => benchContext()],
  ["weights upload throughput (synkti vs aws s3 cp, same files, same moto)", () => benchUpload()],
];

for (const [title, bench] of sections) {
  console.log(`\n== ${title}`);
  try {
    for (const line of await bench()) console.log(line);
  } catch (error) {
    console.log(`(failed: ${error instanceof Error ? error.message : String(error)})`);
  }
}
