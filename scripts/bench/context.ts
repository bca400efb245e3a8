import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closedPort, silentServer } from "../../test/support/free-port.js";
import { timeExternally } from "./external.js";
import { fmt, repeat, summary, timeCommand } from "./measure.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = path.join(root, "dist", "synkti");

/**
 * Time to the deployer verdict on a machine that is not EC2: IMDS refused (closed port, the
 * common laptop case), IMDS silent (a black-holed route: the detection deadline decides) with the
 * per-boot verdict cache off, and the same once the verdict is remembered (the second command of a
 * boot; measured from outside the process, like start-up: the bound is 300 ms).
 */
export async function benchContext(runs = 10): Promise<string[]> {
  const sysfs = mkdtempSync(path.join(tmpdir(), "synkti-bench-sysfs-")); // no DMI at all, as here
  const cache = mkdtempSync(path.join(tmpdir(), "synkti-bench-xdg-cache-"));
  const envWith = (endpoint: string, cacheOn = false) => ({
    ...process.env,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
    SYNKTI_SYSFS_ROOT: sysfs,
    SYNKTI_CONTEXT_CACHE: cacheOn ? "on" : "off",
    XDG_CACHE_HOME: cache,
  });
  const refusedEnv = envWith(`http://127.0.0.1:${await closedPort()}`);
  await using silent = await silentServer();
  const silentEnv = envWith(`http://127.0.0.1:${silent.port}`);
  const args = ["context", "--output", "json"];
  const refused = await repeat(runs, () => timeCommand(binary, args, refusedEnv));
  const hanging = await repeat(Math.max(3, Math.floor(runs / 2)), () => timeCommand(binary, args, silentEnv));
  const rememberedEnv = envWith(`http://127.0.0.1:${silent.port}`, true);
  timeCommand(binary, args, rememberedEnv); // the first command of the boot waits, and remembers
  const remembered = timeExternally([{ label: "remembered", argv: [binary, ...args] }], 20, rememberedEnv);
  return [
    summary("context: IMDS refused (closed port)", refused),
    summary("context: IMDS silent (hangs), cache off", hanging),
    `${"context: IMDS silent, verdict remembered".padEnd(44)} ${fmt(remembered.ms[0]!).padStart(10)}  (${remembered.how})`,
  ];
}

if (import.meta.filename === process.argv[1]) {
  for (const line of await benchContext()) console.log(line);
}
