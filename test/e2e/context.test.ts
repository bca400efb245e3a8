import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closedPort, silentServer } from "../support/free-port.js";
import { ImdsEmulator } from "../support/imds-emulator.js";
import { runCli } from "../support/run-cli.js";

// `synkti context`, the built binary: JSON shape, text, exit codes, never a hang.
// The metadata endpoint is always a loopback address (the emulator, a closed or a silent port).
const INSTANCE = "i-0af01c0123456789a";
let nitroSys: string;
let imds: ImdsEmulator | undefined;

beforeAll(async () => {
  nitroSys = await mkdtemp(path.join(tmpdir(), "synkti-e2e-nitro-"));
  await mkdir(path.join(nitroSys, "devices/virtual/dmi/id"), { recursive: true });
  await writeFile(path.join(nitroSys, "devices/virtual/dmi/id/sys_vendor"), "Amazon EC2\n");
  await writeFile(path.join(nitroSys, "devices/virtual/dmi/id/board_asset_tag"), `${INSTANCE}\n`);
});
afterAll(() => rm(nitroSys, { recursive: true, force: true }));
afterEach(async () => {
  await imds?.close();
  imds = undefined;
});

const worker = { SynktiCluster: "demo", SynktiRole: "worker" };

describe("synkti context (built binary)", () => {
  it("says deployer, fast, when nothing listens at the metadata address", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const run = await runCli(["context", "--output", "json"], { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint } });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      role: "deployer",
      evidence: { dmi: { status: "unavailable" }, imds: { status: "unreachable", endpoint }, identity: { status: "not-fetched" } },
    });
    expect(report.evidence.instanceId).toBeUndefined();
    expect(run.durationMs).toBeLessThan(3000);
  });

  it("says worker, with instance id, region, zone, type and private IP, on an instance tagged for the project", async () => {
    imds = await ImdsEmulator.start({ instanceId: INSTANCE, region: "us-east-2", availabilityZone: "us-east-2b", privateIp: "127.0.0.3", tags: worker });
    const run = await runCli(["context", "--project-name", "demo", "--output", "json"], {
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      role: "worker",
      evidence: {
        instanceId: INSTANCE,
        region: "us-east-2",
        availabilityZone: "us-east-2b",
        instanceType: "g5.xlarge",
        privateIp: "127.0.0.3",
        project: "demo",
        identity: { status: "valid" },
        tags: { status: "ok", values: worker },
      },
    });
  });

  it("says deployer on an instance of another project, with the instance's facts", async () => {
    imds = await ImdsEmulator.start({ instanceId: INSTANCE, tags: { SynktiCluster: "other", SynktiRole: "worker" } });
    const run = await runCli(["context", "-p", "demo", "-o", "json"], { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ role: "deployer", evidence: { instanceId: INSTANCE } });
  });

  it("prints readable text by default", async () => {
    imds = await ImdsEmulator.start({ instanceId: INSTANCE, tags: worker });
    const run = await runCli(["context", "--project-name", "demo"], { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^role: worker \(project demo\)\n/);
    expect(run.stdout).toContain(`instance: ${INSTANCE} (g5.xlarge) in us-east-1a, region us-east-1`);
    expect(run.stdout).toMatch(/\n {2}tags +ok: tags: SynktiCluster=demo, SynktiRole=worker/);
  });

  it.each(["hang", "garbage"] as const)("a %s metadata service gives deployer, never a crash or a hang", async (mode) => {
    imds = await ImdsEmulator.start({ mode });
    const run = await runCli(["context", "--output", "json"], { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }, timeoutMs: 10_000 });
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      role: "deployer",
      evidence: { imds: { status: mode === "hang" ? "timeout" : "bad-answer" } },
    });
    expect(run.durationMs).toBeLessThan(4000);
    expect(run.stderr).not.toMatch(/bug in synkti|unexpected failure/);
  });

  it("reports contradictory evidence (EC2 firmware, silent IMDS) with its fix and exits 3", async () => {
    const silent = await silentServer();
    try {
      const run = await runCli(["context", "--project-name", "demo", "--output", "json"], {
        env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: silent.url, SYNKTI_SYSFS_ROOT: nitroSys },
        timeoutMs: 10_000,
      });
      expect(run.code).toBe(3);
      const report = JSON.parse(run.stdout);
      expect(report.role).toBe("deployer");
      expect(report.contradiction.message).toMatch(/DMI says EC2.*hop limit/s);
      expect(report.contradiction.fix).toBe("unset AWS_EC2_METADATA_SERVICE_ENDPOINT");
      expect(run.stderr).toContain("Contradiction:");
      const text = await runCli(["context"], {
        env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: silent.url, SYNKTI_SYSFS_ROOT: nitroSys },
        timeoutMs: 10_000,
      });
      expect(text.code).toBe(3);
      expect(text.stdout).toMatch(/\ncontradiction: DMI says EC2.*\n {2}run: unset AWS_EC2_METADATA_SERVICE_ENDPOINT/s);
    } finally {
      await silent.close();
    }
  });

  it("does not ask the metadata service at all when AWS_EC2_METADATA_DISABLED=true", async () => {
    imds = await ImdsEmulator.start({ tags: worker });
    const run = await runCli(["context", "-o", "json"], {
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, AWS_EC2_METADATA_DISABLED: "true" },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ role: "deployer", evidence: { imds: { status: "disabled" } } });
    expect(imds.count()).toBe(0);
  });

  it("exits 2 on an invalid project name, with the rule, and asks nothing", async () => {
    imds = await ImdsEmulator.start();
    const run = await runCli(["context", "--project-name", "Bad_Name", "--output", "json"], {
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Invalid project name 'Bad_Name'");
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: "invalid-project-name" } });
    expect(imds.count()).toBe(0);
  });

  it("exits 2 on a bad --output value and on an endpoint URL that cannot be parsed", async () => {
    expect((await runCli(["context", "--output", "yaml"])).code).toBe(2);
    const run = await runCli(["context"], { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:99999" } });
    expect(run.code).toBe(2);
  });

  it("documents itself in --help", async () => {
    const run = await runCli(["context", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--project-name");
    expect(run.stdout).toContain("SYNKTI_SYSFS_ROOT");
  });
});
