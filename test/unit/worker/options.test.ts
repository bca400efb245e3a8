import { describe, expect, it } from "vitest";
import { MODEL_SERVER_PORT, STATUS_PORT } from "../../../src/infra/ports.js";
import { workerOptionsFromEnv } from "../../../src/worker/options.js";

describe("worker options", () => {
  it("production defaults", () => {
    const o = workerOptionsFromEnv({ project: "demo", model: "qwen" }, {});
    expect(o).toMatchObject({
      project: "demo",
      model: "qwen",
      modelServerCommand: "vllm serve {model_dir} --served-model-name {model} --host {host} --port {port}",
      modelsDir: "/models",
      modelServerHost: undefined,
      modelServerPort: MODEL_SERVER_PORT,
      statusPort: STATUS_PORT,
      expectedSha256: undefined,
      dryRun: false,
      bootLog: undefined, // started by hand: no boot log to leave in S3
    });
    expect(o.supervisor.readyTimeoutMs).toBe(20 * 60_000);
  });

  it("the flag beats the environment, which beats the default", () => {
    const env = { SYNKTI_MODEL_SERVER_COMMAND: "from-env {model_dir}", SYNKTI_MODELS_DIR: "/tmp/m", SYNKTI_STATUS_PORT: "18080", SYNKTI_MODEL_SERVER_PORT: "18000", SYNKTI_EXPECTED_SHA256: "ab".repeat(32), SYNKTI_WORKER_DRY_RUN: "true", SYNKTI_READY_TIMEOUT_SECONDS: "90", SYNKTI_BOOT_LOG: "/var/log/synkti-boot.log" };
    expect(workerOptionsFromEnv({ project: "demo" }, env)).toMatchObject({ bootLog: "/var/log/synkti-boot.log", modelServerCommand: "from-env {model_dir}", modelsDir: "/tmp/m", statusPort: 18080, modelServerPort: 18000, expectedSha256: "ab".repeat(32), dryRun: true, supervisor: { readyTimeoutMs: 90_000 } });
    expect(workerOptionsFromEnv({ project: "demo", modelServerCommand: "from-flag {port}" }, env).modelServerCommand).toBe("from-flag {port}");
  });

  it("bad values are usage errors naming the variable", () => {
    expect(() => workerOptionsFromEnv({ project: "demo" }, { SYNKTI_STATUS_PORT: "http" })).toThrow(/SYNKTI_STATUS_PORT='http' is not a TCP port/);
    expect(() => workerOptionsFromEnv({ project: "demo" }, { SYNKTI_READY_TIMEOUT_SECONDS: "-1" })).toThrow(/SYNKTI_READY_TIMEOUT_SECONDS/);
  });
});
