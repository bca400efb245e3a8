import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contextCacheFromEnv } from "../../../src/context/verdict-cache.js";
import { checkEnvironment, ENVIRONMENT } from "../../../src/cli/environment.js";
import { SynktiError } from "../../../src/core/errors.js";

const README = readFileSync(path.resolve(import.meta.dirname, "../../../README.md"), "utf8");

/** The rows of the README's "## Environment variables" table, cells without backticks. */
function readmeRows(): string[][] {
  const section = README.split(/^## /m).find((s) => s.startsWith("Environment variables\n"));
  expect(section, "README.md has a '## Environment variables' section").toBeDefined();
  return section!
    .split("\n")
    .filter((line) => /^\| `[A-Z_0-9]+` \|/.test(line))
    .map((line) => line.split(" | ").map((cell) => cell.replace(/^\| |\|$/g, "").trim().replaceAll("`", "")));
}

function refusal(env: Record<string, string>): SynktiError {
  try {
    checkEnvironment(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SynktiError);
    return error as SynktiError;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe("the environment variables synkti reads", () => {
  it("the README's table lists exactly the declared variables, with their defaults and valid values", () => {
    const declared = ENVIRONMENT.map((v) => [v.name, v.readBy, v.default, v.valid]);
    expect(readmeRows().map((row) => row.slice(0, 4))).toEqual(declared);
  });

  it("every variable synkti's code reads by name is declared (grep of src/)", () => {
    const src = path.resolve(import.meta.dirname, "../../../src");
    const text = execFileSync("grep", ["-rhoE", "env(\\.|\\[\")(SYNKTI|AWS)_[A-Z0-9_]+", src], { encoding: "utf8" });
    const read = new Set(text.split("\n").filter(Boolean).map((m) => m.replace(/^env(\.|\[")/, "")));
    // Read for their presence or to explain a credentials failure (aws/credentials.ts); the SDK reads their values.
    const notValidated = new Set(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONFIG_FILE"]);
    const names = new Set(ENVIRONMENT.map((v) => v.name));
    expect([...read].filter((name) => !names.has(name) && !notValidated.has(name))).toEqual([]);
  });

  it.each([
    [{ SYNKTI_LOG_LEVEL: "silly" }, "SYNKTI_LOG_LEVEL='silly' is not valid; it must be one of fatal, error, warn, info, debug, trace, silent.", "export SYNKTI_LOG_LEVEL=debug   # or: unset SYNKTI_LOG_LEVEL"],
    [{ SYNKTI_STATUS_PORT: "0x50" }, "SYNKTI_STATUS_PORT='0x50' is not valid; it must be a TCP port, a whole number from 0 to 65535.", "export SYNKTI_STATUS_PORT=8080   # or: unset SYNKTI_STATUS_PORT"],
    [{ SYNKTI_READY_TIMEOUT_SECONDS: "1e3" }, /SYNKTI_READY_TIMEOUT_SECONDS='1e3' is not valid; it must be a positive number of seconds/, /^export SYNKTI_READY_TIMEOUT_SECONDS=1200/],
    [{ SYNKTI_MODELS_DIR: "models" }, /SYNKTI_MODELS_DIR='models' is not valid; it must be an absolute path/, /^export SYNKTI_MODELS_DIR=\/models/],
    [{ AWS_REGION: "us east 1" }, /AWS_REGION='us east 1' is not valid; it must be an AWS region name/, /^export AWS_REGION=us-east-1/],
    [{ AWS_EC2_METADATA_DISABLED: "yes" }, /AWS_EC2_METADATA_DISABLED='yes' is not valid; it must be true or false/, /^export AWS_EC2_METADATA_DISABLED=true/],
    [{ SYNKTI_AWS_TIMEOUT_MS: "1e3" }, /SYNKTI_AWS_TIMEOUT_MS='1e3' is not valid: give a whole number of milliseconds from 100 to 600000/, /^export SYNKTI_AWS_TIMEOUT_MS=15000/],
    [{ SYNKTI_MODEL_SERVER_COMMAND: "vllm serve {modeldir}" }, /^SYNKTI_MODEL_SERVER_COMMAND='vllm serve \{modeldir\}' is not valid \(.*uses \{modeldir\}; the placeholders are .*\); it must be a command/, /^export SYNKTI_MODEL_SERVER_COMMAND='vllm serve \{model_dir\}/],
    [{ SYNKTI_MODEL_SERVER_COMMAND: "run \u001b[2J {model_dir} '" }, /^SYNKTI_MODEL_SERVER_COMMAND='run \\u001b\[2J \{model_dir\} '' is not valid; it must be/, /^export SYNKTI_MODEL_SERVER_COMMAND=/],
    [{ SYNKTI_LOG_LEVEL: "\u001b[31mred" }, /SYNKTI_LOG_LEVEL='\\u001b\[31mred' is not valid/, /^export SYNKTI_LOG_LEVEL=/],
  ])("%o is exit 2 with the valid values and the export that fixes it", (env, message, remedy) => {
    const error = refusal(env as Record<string, string>);
    expect(error.kind).toBe("usage");
    if (typeof message === "string") expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    if (typeof remedy === "string") expect(error.remedy).toBe(remedy);
    else expect(error.remedy).toMatch(remedy);
  });

  it("accepts the values the local cloud and user-data set, and treats empty as unset", () => {
    expect(() =>
      checkEnvironment({
        SYNKTI_LOG_LEVEL: " debug ",
        SYNKTI_STATUS_PORT: "0",
        SYNKTI_READY_TIMEOUT_SECONDS: "0.5",
        SYNKTI_MODELS_DIR: "/tmp/i-1/models",
        SYNKTI_EXPECTED_SHA256: "ab".repeat(32),
        SYNKTI_WORKER_DRY_RUN: "TRUE",
        SYNKTI_MODEL_SERVER_COMMAND: "node /x/vllm-standin.js --model-dir {model_dir} --host {host} --port {port}",
        AWS_REGION: "us-gov-west-1",
        AWS_ENDPOINT_URL: "http://127.0.0.1:5000",
        AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6",
        SYNKTI_ENDPOINT_URL: "",
        SYNKTI_BOOT_LOG: "   ",
      }),
    ).not.toThrow();
  });

  it("accepts SYNKTI_CONTEXT_CACHE in any case, as its reader does (OFF turns the cache off)", () => {
    expect(() => checkEnvironment({ SYNKTI_CONTEXT_CACHE: "OFF" })).not.toThrow();
    expect(contextCacheFromEnv({ SYNKTI_CONTEXT_CACHE: "OFF" })).toBeUndefined();
  });
});
