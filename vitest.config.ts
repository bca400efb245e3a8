import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/build-binary.ts"],
    // Integration and e2e tests start moto and child processes: keep them off the 2 cores at once.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      // Tests never reach a real metadata service or real AWS.
      AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      // Every test shares this machine's boot id: no test may answer from a verdict another one left
      // in ~/.cache (the cache's own tests turn it on with XDG_CACHE_HOME in a temporary folder).
      SYNKTI_CONTEXT_CACHE: "off",
      // The per-user caches (upload hashes) of binaries run by tests stay out of the real home.
      XDG_CACHE_HOME: path.join(tmpdir(), "synkti-test-xdg-cache"),
    },
  },
});
