import { describe, expect, it } from "vitest";
import { classifyAwsError, doing, toSynktiError } from "../../../src/aws/errors.js";
import { isSynktiError } from "../../../src/core/errors.js";

/** Errors as the SDK raises them before sending anything: no HTTP status, only a name and a message. */
const noCredentials = Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" });
const noRegion = new Error("Region is missing");

describe("AWS errors a user meets before any request", () => {
  it("missing credentials: a missing precondition (exit 1) with the AWS CLI command that sets them up", () => {
    expect(classifyAwsError(noCredentials)).toBe("no-credentials");
    const error = toSynktiError(noCredentials, "listing the workers");
    expect(error).toMatchObject({ code: "no-credentials", kind: "unsafe" });
    expect(error.message).toMatch(/^No AWS credentials were found while listing the workers/);
    expect(error.remedy).toMatch(/^aws configure --profile <profile>/);
  });

  it("missing region: says so, with the flag to pass, instead of 'run with --debug'", () => {
    expect(classifyAwsError(noRegion)).toBe("no-region");
    const error = toSynktiError(noRegion, "checking bucket my-app-models");
    expect(error).toMatchObject({ code: "no-region", kind: "unsafe" });
    expect(error.remedy).toContain("--region <region>");
  });

  it("a rejected token is still a refusal, not missing credentials", () => {
    const expired = Object.assign(new Error("The security token included in the request is expired"), { name: "ExpiredToken", $metadata: { httpStatusCode: 403 } });
    expect(classifyAwsError(expired)).toBe("auth");
  });

  it("doing() wraps raw AWS errors once and lets a SynktiError through unchanged", async () => {
    const wrapped = await doing("asking STS", () => Promise.reject(noCredentials)).catch((e: unknown) => e);
    expect(isSynktiError(wrapped) && wrapped.code).toBe("no-credentials");
    const again = await doing("something else", () => Promise.reject(wrapped)).catch((e: unknown) => e);
    expect(again).toBe(wrapped);
  });
});
