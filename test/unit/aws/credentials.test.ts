import { describe, expect, it } from "vitest";
import { CredentialsUnavailable, environmentKeyProblem, explainedCredentialChain, type CredentialSource } from "../../../src/aws/credentials.js";
import { toSynktiError } from "../../../src/aws/errors.js";

// Sources are plain functions here (what a provider is); the SDK's own providers against real
// config files and environments are exercised by test/e2e/hostile-inputs.test.ts.
const NOW = Date.parse("2026-11-29T10:00:00Z");
const fails = (message: string) => async () => Promise.reject(Object.assign(new Error(message), { name: "CredentialsProviderError", tryNextLink: true }));
const gives = (expiration?: Date) => async () => ({ accessKeyId: "AKIA", secretAccessKey: "s", ...(expiration ? { expiration } : {}) });
const chain = (sources: CredentialSource[], profileNamed = false) => explainedCredentialChain(sources, { profileNamed, now: () => NOW });
const failure = async (sources: CredentialSource[], profileNamed = false) => (await chain(sources, profileNamed)().catch((e: unknown) => e)) as CredentialsUnavailable;

describe("explainedCredentialChain", () => {
  it("uses the first source that works, and asks again in 15 minutes when its credentials do not end", async () => {
    const creds = await chain([{ name: "env", provider: fails("Unable to find environment variable credentials.") }, { name: "profile", provider: gives() }])();
    expect(creds).toMatchObject({ accessKeyId: "AKIA", expiration: new Date(NOW + 15 * 60_000) });
  });

  it("a source set up but failing is named with its reason; sources not set up are passed over", async () => {
    const error = await failure([
      { name: "env", provider: fails("Unable to find environment variable credentials.") },
      { name: "profile 'dev' (SSO)", provider: fails("Profile dev is not configured with SSO credentials."), group: "profile 'dev'" },
      { name: "profile 'dev'", provider: fails("Command failed: my-login\nsession expired\n"), group: "profile 'dev'" },
      { name: "profile 'dev' (credential_process)", provider: fails("Command failed: my-login\nsession expired\n"), group: "profile 'dev'" },
    ]);
    expect(error).toBeInstanceOf(CredentialsUnavailable);
    expect(error.broken).toEqual([{ source: "profile 'dev'", configured: true, reason: "Command failed: my-login | session expired" }]);
    expect(toSynktiError(error, "listing the workers").message).toBe(
      "AWS credentials could not be loaded while listing the workers: profile 'dev' failed: Command failed: my-login | session expired.",
    );
  });

  it("a long failure shared by a profile's sources is named once, cut to its start", async () => {
    const long = `Command failed: my-login\n${"x".repeat(600)}\n`;
    const error = await failure([
      { name: "profile 'dev'", provider: fails(long), group: "profile 'dev'" },
      { name: "profile 'dev' (credential_process)", provider: fails(long), group: "profile 'dev'" },
    ]);
    expect(error.broken).toHaveLength(1);
    expect(error.broken[0]).toMatchObject({ source: "profile 'dev'", configured: true });
    expect(error.broken[0]!.reason).toHaveLength(400);
  });

  it("a failing credential_process's command line and output are shown with their secrets blanked", async () => {
    const error = await failure([
      { name: "profile 'ci' (credential_process)", provider: fails("Command failed: get-creds --token tok-9f8e7d6c --role ci\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG is stale\n") },
    ]);
    const message = toSynktiError(error, "listing the workers").message;
    expect(message).toContain("get-creds --token <redacted> --role ci");
    expect(message).toContain("AWS_SECRET_ACCESS_KEY=<redacted> is stale");
    expect(message).not.toMatch(/tok-9f8e7d6c|wJalrXUtnFEMI/);
  });

  it("expired credentials, or an expiration that is not a date, are failures of their source", async () => {
    const error = await failure([
      { name: "env", provider: gives(new Date(NOW - 1000)) },
      { name: "process", provider: gives(new Date(Number.NaN)) },
    ]);
    expect(error.broken.map((f) => f.reason)).toEqual(["they expired at 2026-11-29T09:59:59.000Z", "their expiration time is not a date"]);
  });

  it("a profile that does not exist is a failure only when AWS_PROFILE named it", async () => {
    const sources = [{ name: "profile 'prod'", provider: fails("Profile prod could not be found in shared credentials file.") }];
    expect((await failure(sources, true)).broken).toEqual([{ source: "profile 'prod'", configured: true, reason: "there is no such profile in the AWS config or credentials file" }]);
    const none = await failure(sources, false);
    expect(none.broken).toEqual([]);
    expect(toSynktiError(none, "x").message).toBe("No AWS credentials were found while x: none is set up (tried profile 'prod').");
  });

  it("a precheck failure (half a key pair) counts without asking the provider", async () => {
    let asked = false;
    const error = await failure([{ name: "env", provider: async () => ((asked = true), { accessKeyId: "a", secretAccessKey: "b" }), precheck: () => environmentKeyProblem({ AWS_ACCESS_KEY_ID: "AKIA" }) }]);
    expect(asked).toBe(false);
    expect(error.broken[0]?.reason).toBe("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  });
});

describe("environmentKeyProblem", () => {
  it.each([
    [{}, undefined],
    [{ AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s" }, undefined],
    [{ AWS_SECRET_ACCESS_KEY: "s" }, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"],
    [{ AWS_ACCESS_KEY_ID: "AK IA", AWS_SECRET_ACCESS_KEY: "s" }, "AWS_ACCESS_KEY_ID holds spaces or control characters"],
    [{ AWS_SESSION_TOKEN: "t" }, "AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"],
  ])("%o: %s", (env, problem) => expect(environmentKeyProblem(env)).toBe(problem));
});
