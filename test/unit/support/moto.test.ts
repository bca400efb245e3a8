/**
 * moto.ts without starting moto: environment helpers, PATH lookup and the failures a missing or
 * broken moto_server must turn into. The real server is exercised in test/integration/support.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvFor, findOnPath, MOTO_INSTALL_HINT, MotoNotFound, sdkConfigFor, startMoto } from "../../support/moto.js";

let dir: string;
const script = async (name: string, body: string) => {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "synkti-moto-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("awsEnvFor / sdkConfigFor", () => {
  it("points a child process at the endpoint with dummy keys, us-east-1 and a closed IMDS port", () => {
    expect(awsEnvFor("http://127.0.0.1:5000")).toEqual({
      AWS_ENDPOINT_URL: "http://127.0.0.1:5000",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    });
  });

  it("takes a metadata endpoint, region and credentials", () => {
    const env = awsEnvFor("http://127.0.0.1:5000", {
      metadataEndpoint: "http://127.0.0.3:1338",
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIA1", secretAccessKey: "s" },
    });
    expect(env).toMatchObject({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.3:1338", AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIA1" });
  });

  it("gives in-process SDK clients the endpoint, path-style S3 and static credentials", () => {
    expect(sdkConfigFor("http://127.0.0.1:5000")).toEqual({
      endpoint: "http://127.0.0.1:5000",
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      forcePathStyle: true,
    });
  });
});

describe("finding and starting moto_server", () => {
  it("findOnPath works like command -v", async () => {
    await script("fake-tool", "exit 0");
    expect(findOnPath("fake-tool", `/nonexistent${path.delimiter}${dir}`)).toBe(path.join(dir, "fake-tool"));
    expect(findOnPath("fake-tool", "/nonexistent")).toBeUndefined();
  });

  it("a missing moto_server is a clear error with the install command", async () => {
    const error = await startMoto({ command: "no-such-moto-server-here" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MotoNotFound);
    expect((error as Error).message).toBe(MOTO_INSTALL_HINT);
    expect(MOTO_INSTALL_HINT).toBe("moto_server not found on PATH; install it with: pip install 'moto[server]'");
  });

  it("a pyenv shim without moto behind it (exit 127) is the same clear error", async () => {
    const shim = await script("moto_server", 'echo "pyenv: moto_server: command not found" >&2; exit 127');
    await expect(startMoto({ command: shim })).rejects.toThrow(MotoNotFound);
  });

  it("a moto_server that dies early reports its output", async () => {
    const broken = await script("broken-moto", 'echo "ImportError: no module named werkzeug" >&2; exit 1');
    await expect(startMoto({ command: broken })).rejects.toThrow(/exited \(code 1\)[\s\S]*ImportError/);
  });

  it("a moto_server that never answers hits the readiness deadline and is killed", async () => {
    const mute = await script("mute-moto", "exec sleep 30");
    const started = Date.now();
    await expect(startMoto({ command: mute, readyTimeoutMs: 300 })).rejects.toThrow(/did not answer .* within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
