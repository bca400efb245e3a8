import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { detectContext } from "../../../src/context/detect.js";
import { closedPort, silentServer } from "../../support/free-port.js";
import { ImdsEmulator, type ImdsEmulatorOptions } from "../../support/imds-emulator.js";

// Detection end to end in-process: real files, real HTTP, the real clock, against the emulator.
let emptySys: string;
let nitroSys: string;
let imds: ImdsEmulator | undefined;
const INSTANCE = "i-0af01c0123456789a";

beforeAll(async () => {
  emptySys = await mkdtemp(path.join(tmpdir(), "synkti-sys-empty-"));
  nitroSys = await mkdtemp(path.join(tmpdir(), "synkti-sys-nitro-"));
  await mkdir(path.join(nitroSys, "devices/virtual/dmi/id"), { recursive: true });
  await writeFile(path.join(nitroSys, "devices/virtual/dmi/id/sys_vendor"), "Amazon EC2\n");
  await writeFile(path.join(nitroSys, "devices/virtual/dmi/id/board_asset_tag"), `${INSTANCE}\n`);
});
afterAll(async () => {
  await rm(emptySys, { recursive: true, force: true });
  await rm(nitroSys, { recursive: true, force: true });
});
afterEach(async () => {
  await imds?.close();
  imds = undefined;
});

const settings = (endpoint: string, sysfsRoot = emptySys) => ({
  sysfsRoot,
  imds: { endpoint, disabled: false, source: "AWS_EC2_METADATA_SERVICE_ENDPOINT" as const },
});
async function emulate(options: ImdsEmulatorOptions): Promise<string> {
  imds = await ImdsEmulator.start({ instanceId: INSTANCE, availabilityZone: "us-east-1c", privateIp: "127.0.0.9", ...options });
  return imds.url;
}

describe("detectContext against the IMDS emulator", () => {
  it("a tagged instance is the project's worker, with its facts", async () => {
    const url = await emulate({ tags: { SynktiCluster: "demo", SynktiRole: "worker", Name: "x" } });
    const report = await detectContext({ ...settings(url, nitroSys), projectName: "demo" });
    expect(report).toMatchObject({
      role: "worker",
      evidence: {
        instanceId: INSTANCE,
        region: "us-east-1",
        availabilityZone: "us-east-1c",
        instanceType: "g5.xlarge",
        privateIp: "127.0.0.9",
        project: "demo",
        dmi: { status: "ec2", strength: "strong" },
        imds: { status: "ok" },
        identity: { status: "valid" },
        tags: { status: "ok", values: { SynktiCluster: "demo", SynktiRole: "worker" } },
      },
    });
    expect(report.contradiction).toBeUndefined();
    expect(imds!.count("/latest/meta-data/tags/instance/Name")).toBe(0); // only synkti's tags are read
  });

  it("an untagged instance is a deployer, with the command that tags it", async () => {
    const url = await emulate({ tags: {} });
    const report = await detectContext({ ...settings(url), projectName: "demo" });
    expect(report).toMatchObject({ role: "deployer", evidence: { instanceId: INSTANCE, tags: { status: "ok" } } });
    expect(report.fix).toContain(`aws ec2 create-tags --resources ${INSTANCE}`);
  });

  it("metadata tags disabled: deployer, and the fix enables them", async () => {
    const url = await emulate({ tags: null });
    const report = await detectContext({ ...settings(url), projectName: "demo" });
    expect(report).toMatchObject({ role: "deployer", evidence: { tags: { status: "disabled" } } });
    expect(report.fix).toContain("--instance-metadata-tags enabled");
  });

  it("an identity document that is not one is no evidence of EC2", async () => {
    const url = await emulate({ identityBody: JSON.stringify({ instanceId: "i-123", region: "moon" }) });
    const report = await detectContext(settings(url));
    expect(report).toMatchObject({ role: "deployer", evidence: { identity: { status: "invalid" } } });
    expect(report.evidence.instanceId).toBeUndefined();
  });

  it("a garbage server is a deployer, fast", async () => {
    const url = await emulate({ mode: "garbage" });
    const report = await detectContext(settings(url));
    expect(report).toMatchObject({ role: "deployer", evidence: { imds: { status: "bad-answer" } } });
    expect(report.contradiction).toBeUndefined();
  });

  it("a closed port is a deployer at once", async () => {
    const started = Date.now();
    const report = await detectContext(settings(`http://127.0.0.1:${await closedPort()}`));
    expect(report).toMatchObject({ role: "deployer", evidence: { imds: { status: "unreachable" } } });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("a hanging server is a deployer after the 1 s probe deadline", async () => {
    const url = await emulate({ mode: "hang" });
    const started = Date.now();
    const report = await detectContext(settings(url));
    const took = Date.now() - started;
    expect(report).toMatchObject({ role: "deployer", evidence: { imds: { status: "timeout", deadlineMs: 1000 } } });
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(2500);
  });

  it("EC2 firmware with a silent metadata service is a contradiction, not a guess", async () => {
    const silent = await silentServer();
    try {
      const report = await detectContext({ ...settings(silent.url, nitroSys), projectName: "demo" });
      expect(report.role).toBe("deployer");
      expect(report.contradiction?.message).toMatch(/hop limit/);
    } finally {
      await silent.close();
    }
  });
});
