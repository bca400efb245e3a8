import { describe, expect, it } from "vitest";
import net from "node:net";
import { AddressPool, canBind, randomSubnet } from "../../support/booter/addresses.js";
import { instanceEnv, INHERITED } from "../../support/booter/instance-env.js";
import type { ObservedInstance } from "../../support/booter/moto-ec2.js";
import { MARKER_VARIABLE } from "../../support/booter/processes.js";
import { reconcile, type Tracked } from "../../support/booter/reconcile.js";

const instance = (instanceId: string, state: string): ObservedInstance => ({
  instanceId,
  state,
  instanceType: "g5.xlarge",
  availabilityZone: "us-east-1a",
  imageId: "ami-1",
  accountId: "123456789012",
  lifecycle: "spot",
  tags: {},
  metadataTags: true,
});

describe("reconcile", () => {
  const tracked = (entries: Array<[string, Tracked]>) => new Map(entries);

  it("boots running instances it has never seen; pending ones wait", () => {
    const plan = reconcile(tracked([]), [instance("i-1", "running"), instance("i-2", "pending")]);
    expect(plan.boot.map((i) => i.instanceId)).toEqual(["i-1"]);
    expect(plan.end).toEqual([]);
  });

  it.each(["shutting-down", "terminated", "stopping", "stopped"])("ends a booted instance that is %s", (state) => {
    expect(reconcile(tracked([["i-1", "booted"]]), [instance("i-1", state)]).end).toEqual(["i-1"]);
  });

  it("ends a booted instance that vanished from DescribeInstances", () => {
    expect(reconcile(tracked([["i-1", "booted"]]), []).end).toEqual(["i-1"]);
  });

  it("never boots twice, never reboots an ended instance, ignores one terminated before it was seen", () => {
    const plan = reconcile(tracked([["i-1", "booted"], ["i-2", "ended"]]), [instance("i-1", "running"), instance("i-2", "running"), instance("i-3", "terminated")]);
    expect(plan).toEqual({ boot: [], end: [], alive: [instance("i-1", "running")] });
  });
});

describe("instanceEnv", () => {
  const input = {
    base: { PATH: "/usr/bin", HOME: "/root", AWS_ACCESS_KEY_ID: "AKIA-caller", AWS_PROFILE: "prod", SYNKTI_LOG_LEVEL: "debug", AWS_ENDPOINT_URL: "https://real" },
    dir: "/tmp/i-1",
    awsEndpoint: "http://127.0.0.1:5000",
    metadataEndpoint: "http://127.0.0.1:6000",
    marker: "i-1@abc",
    modelServerCommand: "standin {model_dir} --host {host} --port {port}",
  };

  it("redirects only the contract's variables and passes nothing else of the caller's", () => {
    const env = instanceEnv(input);
    expect(env).toMatchObject({
      PATH: "/usr/bin",
      HOME: "/root",
      AWS_ENDPOINT_URL: "http://127.0.0.1:5000",
      AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:6000",
      SYNKTI_INSTALL_PREFIX: "/tmp/i-1/usr-local-bin",
      SYNKTI_MODELS_DIR: "/tmp/i-1/models",
      SYNKTI_MODEL_SERVER_COMMAND: input.modelServerCommand,
      SYNKTI_SYSFS_ROOT: "/tmp/i-1/sys",
      TMPDIR: "/tmp/i-1/tmp",
      [MARKER_VARIABLE]: "i-1@abc",
    });
    // No keys, no profile: an instance gets credentials from its IMDS only.
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "SYNKTI_LOG_LEVEL"]) expect(env).not.toHaveProperty(key);
    expect(env.AWS_CONFIG_FILE).toMatch(/^\/tmp\/i-1\//);
    const own = new Set<string>([...INHERITED]);
    for (const key of Object.keys(env)) expect(own.has(key) || /^(AWS_|SYNKTI_|TMPDIR$)/.test(key), key).toBe(true);
  });

  it("extras win (test knobs such as SYNKTI_STANDIN_STARTUP_DELAY_MS)", () => {
    const env = instanceEnv({ ...input, extra: { SYNKTI_STANDIN_STARTUP_DELAY_MS: "2000", SYNKTI_LOG_LEVEL: "debug" } });
    expect(env).toMatchObject({ SYNKTI_STANDIN_STARTUP_DELAY_MS: "2000", SYNKTI_LOG_LEVEL: "debug" });
  });
});

describe("AddressPool", () => {
  it("hands out .2, .3, ... of a random 127/8 subnet other than 127.0.0", async () => {
    expect(randomSubnet(() => 0)).toBe("127.1.0");
    expect(randomSubnet(() => 0.9999)).toBe("127.254.255");
    const pool = new AddressPool(randomSubnet());
    expect(pool.subnet).toMatch(/^127\.([1-9]\d?|1\d\d|2[0-4]\d|25[0-4])\.\d{1,3}$/);
    expect([await pool.allocate(), await pool.allocate()]).toEqual([`${pool.subnet}.2`, `${pool.subnet}.3`]);
  });

  it("skips an address whose ports are taken, and reuses released ones only when the /24 runs out", async () => {
    const subnet = randomSubnet();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, `${subnet}.2`, () => resolve()));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      expect(await canBind(`${subnet}.2`, port)).toBe(false);
      const pool = new AddressPool(subnet, [port]);
      expect(await pool.allocate()).toBe(`${subnet}.3`);
      pool.release(`${subnet}.3`);
      expect(await pool.allocate()).toBe(`${subnet}.4`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("refuses a subnet outside 127/8", () => {
    expect(() => new AddressPool("10.0.0")).toThrow(/127\.0\.0\.0\/8/);
  });
});
