import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { detectContext } from "../../../src/context/detect.js";
import type { ImdsTransport } from "../../../src/context/imds-transport.js";
import { DETECTION_TIMEOUTS } from "../../../src/context/observe.js";
import type { ContextReport } from "../../../src/context/types.js";
import { contextCacheFromEnv, type ContextCacheSettings } from "../../../src/context/verdict-cache.js";
import { isSynktiError } from "../../../src/core/errors.js";
import { FakeClock } from "../../support/fake-clock.js";
import { imds, silent } from "./silent-imds.js";

// The per-boot "not EC2" verdict: kept only for a silent metadata service on a machine whose DMI
// does not name EC2, and never answering for one whose DMI does. Fake clock: no real waiting.
let dir: string;
let sysfs: string;
let cache: ContextCacheSettings;
const BOOT_A = "0b7c3a52-1f0e-4e47-9d3a-6f0c2d1e8a11";

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "synkti-verdict-cache-"));
  sysfs = path.join(dir, "sys");
  await mkdir(sysfs);
  cache = { file: path.join(dir, "cache", "synkti", "context.json"), procRoot: path.join(dir, "proc") };
  await setBootId(BOOT_A);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function setBootId(id: string) {
  await mkdir(path.join(dir, "proc/sys/kernel/random"), { recursive: true });
  await writeFile(path.join(dir, "proc/sys/kernel/random/boot_id"), `${id}\n`);
}

async function writeNitroDmi() {
  const dmi = path.join(sysfs, "devices/virtual/dmi/id");
  await mkdir(dmi, { recursive: true });
  await writeFile(path.join(dmi, "sys_vendor"), "Amazon EC2\n");
  await writeFile(path.join(dmi, "board_asset_tag"), "i-0af01c0123456789a\n");
}

/** Runs detection, moving the fake clock 50 ms at a time while it waits; how long it waited. */
async function detect(transport: ImdsTransport, options: { endpoint?: string } = {}) {
  const clock = new FakeClock();
  const start = clock.now();
  let report: ContextReport | undefined;
  const running = detectContext(
    { sysfsRoot: sysfs, imds: { ...imds, ...(options.endpoint && { endpoint: options.endpoint }) }, cache },
    { clock, transport },
  ).then((r) => (report = r));
  for (let turn = 0; report === undefined && turn < 10_000; turn++) {
    await clock.settle();
    if (report === undefined && clock.pending() > 0) await clock.advance(50);
  }
  return { report: await running, waitedMs: clock.now() - start };
}

describe("the per-boot verdict cache", () => {
  it("a second detection on the same boot answers from the file without asking IMDS or waiting", async () => {
    const first = silent();
    const cold = await detect(first.transport);
    expect(cold.report.evidence.imds.status).toBe("timeout");
    expect(cold.waitedMs).toBeGreaterThanOrEqual(DETECTION_TIMEOUTS.probeMs);
    expect((await stat(cache.file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(cache.file))).mode & 0o777).toBe(0o700);

    const second = silent();
    const warm = await detect(second.transport);
    expect(second.seen).toHaveLength(0);
    expect(warm.waitedMs).toBe(0);
    expect(warm.report).toMatchObject({ role: "deployer", evidence: { imds: { status: "timeout", remembered: { file: cache.file } } } });
    expect(warm.report.evidence.imds.detail).toMatch(/remembered from .*SYNKTI_CONTEXT_CACHE=off asks again/);
    expect(warm.report.reason).toBe(cold.report.reason.replace(cold.report.evidence.imds.detail, warm.report.evidence.imds.detail));
  });

  it("DMI that says EC2 never gets the remembered deployer verdict: it asks IMDS and reports the contradiction", async () => {
    await detect(silent().transport); // remembered while the sysfs root had no DMI
    await writeNitroDmi(); // same sysfs root, same boot, same endpoint: the key still matches
    const after = silent();
    const { report, waitedMs } = await detect(after.transport);
    expect(after.seen.map((r) => r.method)).toEqual(["PUT"]);
    expect(waitedMs).toBe(DETECTION_TIMEOUTS.probeOnEc2Ms);
    expect(report.contradiction?.message).toMatch(/DMI says EC2/);
    expect(report.evidence.imds.remembered).toBeUndefined();
  });

  it("a new boot or another endpoint asks again", async () => {
    await detect(silent().transport);
    const otherEndpoint = silent();
    await detect(otherEndpoint.transport, { endpoint: "http://127.0.0.1:10" });
    expect(otherEndpoint.seen).toHaveLength(1);
    await setBootId("5d1e6f2a-9b3c-4d8e-8f7a-1c2b3d4e5f60");
    const rebooted = silent();
    const { report } = await detect(rebooted.transport);
    expect(rebooted.seen).toHaveLength(1);
    expect(report.evidence.imds.remembered).toBeUndefined();
  });

  it("keeps nothing when the metadata service refuses at once (already fast) or answers", async () => {
    const refused: ImdsTransport = () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }));
    const { report } = await detect(refused);
    expect(report.evidence.imds.status).not.toBe("timeout");
    await expect(stat(cache.file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("ignores a cache file others may write (group or world writable)", async () => {
    await detect(silent().transport);
    await chmod(cache.file, 0o666);
    const again = silent();
    await detect(again.transport);
    expect(again.seen).toHaveLength(1);
  });

  it("ignores a damaged file and replaces it", async () => {
    await mkdir(path.dirname(cache.file), { recursive: true });
    await writeFile(cache.file, "{ not json", { mode: 0o600 });
    const first = silent();
    await detect(first.transport);
    expect(first.seen).toHaveLength(1);
    expect(JSON.parse(await readFile(cache.file, "utf8")).entries).toHaveLength(1);
  });
});

describe("SYNKTI_CONTEXT_CACHE", () => {
  it("is on by default, under XDG_CACHE_HOME when set", () => {
    expect(contextCacheFromEnv({ XDG_CACHE_HOME: "/tmp/x" })).toEqual({ file: "/tmp/x/synkti/context.json", procRoot: "/proc" });
    expect(contextCacheFromEnv({ SYNKTI_CONTEXT_CACHE: "on", HOME: "/home/u" })?.file).toMatch(/\/\.cache\/synkti\/context\.json$/);
  });

  it("off turns it off; anything else is a usage error naming the valid values", () => {
    expect(contextCacheFromEnv({ SYNKTI_CONTEXT_CACHE: "off" })).toBeUndefined();
    try {
      contextCacheFromEnv({ SYNKTI_CONTEXT_CACHE: "nope" });
      expect.unreachable();
    } catch (error) {
      expect(isSynktiError(error) && error.kind).toBe("usage");
      expect((error as Error).message).toMatch(/SYNKTI_CONTEXT_CACHE='nope'.*on .*or off/);
    }
  });
});
