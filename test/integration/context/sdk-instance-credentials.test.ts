import { fromInstanceMetadata } from "@aws-sdk/credential-providers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ImdsEmulator } from "../../support/imds-emulator.js";

// A worker gets its AWS credentials the way every EC2 instance does: the SDK's instance-metadata
// provider, IMDSv2. This proves the emulator is faithful enough for the real SDK code path.
describe("AWS SDK fromInstanceMetadata against the IMDS emulator", () => {
  let imds: ImdsEmulator;
  const saved = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;

  beforeEach(async () => {
    imds = await ImdsEmulator.start({ iamRole: "demo-synkti-worker" });
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.url;
  });
  afterEach(async () => {
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = saved;
    await imds.close();
  });

  it("obtains the instance profile's credentials with an IMDSv2 token", async () => {
    const credentials = await fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })();
    expect(credentials.accessKeyId).toBe("ASIAIMDSEMULATOR0001");
    expect(credentials.secretAccessKey).toBe("imds-emulator-secret-access-key-not-real");
    expect(credentials.sessionToken).toBe("imds-emulator-session-token-not-real");
    expect(credentials.expiration!.getTime()).toBeGreaterThan(Date.now() + 5 * 3600_000);
    // IMDSv2, not the v1 fallback: a token first, then both credential GETs accepted with it.
    expect(imds.requests[0]).toMatchObject({ method: "PUT", path: "/latest/api/token", status: 200 });
    expect(imds.requests.filter((r) => r.path.startsWith("/latest/meta-data/iam/"))).toEqual([
      { method: "GET", path: "/latest/meta-data/iam/security-credentials/", status: 200 },
      { method: "GET", path: "/latest/meta-data/iam/security-credentials/demo-synkti-worker", status: 200 },
    ]);
  });

  it("fails (rather than inventing credentials) when the instance has no profile", async () => {
    await imds.close();
    imds = await ImdsEmulator.start({ iamRole: null });
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.url;
    await expect(fromInstanceMetadata({ timeout: 1000, maxRetries: 0 })()).rejects.toThrow();
  });
});
