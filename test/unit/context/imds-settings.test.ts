import { describe, expect, it } from "vitest";
import { contextSettingsFromEnv } from "../../../src/context/detect.js";
import { imdsSettingsFromEnv } from "../../../src/context/imds-settings.js";

describe("IMDS settings from the environment (the AWS SDK's variables)", () => {
  it("defaults to the link-local address", () => {
    expect(imdsSettingsFromEnv({})).toEqual({ endpoint: "http://169.254.169.254", disabled: false, source: "default" });
  });

  it("honours AWS_EC2_METADATA_SERVICE_ENDPOINT, without a trailing slash", () => {
    expect(imdsSettingsFromEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:4242/" })).toMatchObject({
      endpoint: "http://127.0.0.1:4242",
      source: "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    });
  });

  it("honours the IPv6 endpoint mode when no endpoint is given", () => {
    expect(imdsSettingsFromEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" }).endpoint).toBe("http://[fd00:ec2::254]");
  });

  it("reads AWS_EC2_METADATA_DISABLED=true in any case, and nothing else as true", () => {
    expect(imdsSettingsFromEnv({ AWS_EC2_METADATA_DISABLED: "TRUE" }).disabled).toBe(true);
    expect(imdsSettingsFromEnv({ AWS_EC2_METADATA_DISABLED: "1" }).disabled).toBe(false);
  });

  it("rejects an endpoint that is not an http(s) URL as a usage error", () => {
    for (const bad of ["169.254.169.254", "ftp://127.0.0.1"]) {
      expect(() => imdsSettingsFromEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: bad })).toThrow(
        expect.objectContaining({ kind: "usage", code: "invalid-imds-endpoint" }),
      );
    }
  });

  it("takes the sysfs root from SYNKTI_SYSFS_ROOT, else /sys", () => {
    expect(contextSettingsFromEnv({}).sysfsRoot).toBe("/sys");
    expect(contextSettingsFromEnv({ SYNKTI_SYSFS_ROOT: "/tmp/fake-sys" }).sysfsRoot).toBe("/tmp/fake-sys");
  });
});
