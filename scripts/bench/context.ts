import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closedPort, silentServer } from "../../test/support/free-port.js";
import { repeat, summary, timeCommand } from "./measure.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");

/**
 * Time to the deployer verdict on a machine that is not EC2: IMDS refused (closed port, the
 * common laptop case) and IMDS silent (a black-holed route: the detection deadline decides).
 */
export async function benchContext(runs = 10): Promise<string[]> {
  const sysfs = mkdtempSync(path.join(tmpdir(), "synkti-bench-sysfs-")); // no DMI at all, as here
  const envWith = (endpoint: string) => ({ ...process.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint, SYNKTI_SYSFS_ROOT: sysfs });
  const refusedEnv = envWith(`http://127.0.0.1:${await closedPort()}`);
  await using silent = await silentServer();
  const silentEnv = envWith(`http://127.0.0.1:${silent.port}`);
  const args = ["context", "--output", "json"];
  const refused = await repeat(runs, () => timeCommand(binary, args, refusedEnv));
  const hanging = await repeat(Math.max(3, Math.floor(runs / 2)), () => timeCommand(binary, args, silentEnv));
  return [summary("context: IMDS refused (closed port)", refused), summary("context: IMDS silent (hangs)", hanging)];
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchContext()) console.log(line);
}
