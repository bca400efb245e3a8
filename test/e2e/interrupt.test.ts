import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { silentServer } from "../support/free-port.js";
import { BINARY, emptySysfsRoot } from "../support/run-cli.js";
import { until } from "../support/until.js";

describe("Ctrl-C where no command cleans up (start-up, context detection)", () => {
  it("exits 130 with a one-line message, not by the signal", async () => {
    await using silent = await silentServer(); // IMDS that never answers: detection waits its deadline
    const child = spawn(BINARY, ["context", "--output", "json"], {
      env: { ...process.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${silent.port}`, SYNKTI_SYSFS_ROOT: emptySysfsRoot() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    await until("the binary to ask IMDS", () => silent.connections() > 0, 10_000, 20); // detection is waiting now
    child.kill("SIGINT");
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(stderr).toContain("Interrupted (SIGINT)");
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
