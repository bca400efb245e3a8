import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentServer, type SilentServer } from "../support/free-port.js";
import { runCli } from "../support/run-cli.js";

// A laptop whose network drops link-local traffic: IMDS silent, no DMI. The first `synkti context`
// of the boot waits the probe deadline (1 s); the next ones answer from the remembered verdict.
// The cache is on here (vitest turns it off for every other test), in a temporary XDG_CACHE_HOME.
const PROBE_MS = 1000;
let dir: string;
let sysfs: string;
let silent: SilentServer;
let env: Record<string, string>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "synkti-e2e-context-cache-"));
  sysfs = path.join(dir, "sys");
  await mkdir(sysfs);
  silent = await silentServer();
  env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: silent.url, SYNKTI_SYSFS_ROOT: sysfs, XDG_CACHE_HOME: path.join(dir, "cache"), SYNKTI_CONTEXT_CACHE: "on" };
});
afterEach(async () => {
  await silent.close();
  await rm(dir, { recursive: true, force: true });
});

const context = (extra: Record<string, string> = {}) => runCli(["context", "--output", "json"], { env: { ...env, ...extra }, timeoutMs: 15_000 });

describe("synkti context remembers 'not EC2' for the boot (built binary)", () => {
  it("the second run on the same boot does not wait for the silent metadata service", async () => {
    const cold = await context();
    expect(cold.code).toBe(0);
    expect(JSON.parse(cold.stdout)).toMatchObject({ role: "deployer", evidence: { imds: { status: "timeout" } } });
    expect(cold.durationMs).toBeGreaterThanOrEqual(PROBE_MS);
    const file = path.join(dir, "cache", "synkti", "context.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const asked = silent.connections();
    const warm = await context();
    expect(warm.code).toBe(0);
    const report = JSON.parse(warm.stdout);
    expect(report).toMatchObject({ role: "deployer", evidence: { imds: { status: "timeout", remembered: { file } } } });
    expect(silent.connections()).toBe(asked); // the metadata address was not even contacted
    // Measured from outside the process (spawn to exit). The bench reports the figure (about 60 ms
    // here); the test only asserts what a loaded CI machine cannot blur: no probe deadline was waited.
    expect(warm.durationMs).toBeLessThan(PROBE_MS);

    const fresh = await context({ SYNKTI_CONTEXT_CACHE: "off" });
    expect(JSON.parse(fresh.stdout).evidence.imds.remembered).toBeUndefined();
    expect(silent.connections()).toBeGreaterThan(asked);
  });

  it("DMI that says EC2 never gets the remembered deployer verdict (exit 3, contradiction)", async () => {
    expect((await context()).code).toBe(0); // remembered while the sysfs root had no DMI
    const dmi = path.join(sysfs, "devices/virtual/dmi/id");
    await mkdir(dmi, { recursive: true });
    await writeFile(path.join(dmi, "sys_vendor"), "Amazon EC2\n");
    await writeFile(path.join(dmi, "board_asset_tag"), "i-0af01c0123456789a\n");
    const run = await context();
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout);
    expect(report.contradiction.message).toMatch(/DMI says EC2/);
    expect(report.evidence.imds.remembered).toBeUndefined();
  });

  it("a bad SYNKTI_CONTEXT_CACHE is a usage error naming the valid values", async () => {
    const run = await context({ SYNKTI_CONTEXT_CACHE: "sometimes" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SYNKTI_CONTEXT_CACHE='sometimes' is not valid: use on \(the default\) or off/);
    expect(run.stderr).toContain("export SYNKTI_CONTEXT_CACHE=off");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
