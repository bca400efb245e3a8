import { describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

// --version answers before the command tree loads (src/main.ts); it must say exactly what the
// full CLI says. (The built-ins the bundle loads lazily, crypto and child_process, are exercised by
// the upload, infra and worker end-to-end tests.)
describe("start-up paths of the built binary", () => {
  it("--version and -V print the version the version command reports, and nothing else", async () => {
    const json = await runCli(["version", "--output", "json"]);
    const { version } = JSON.parse(json.stdout) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const run = await runCli([flag]);
      expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    }
  });

  it("--help still goes through the full CLI and lists the commands", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: synkti <command> \[options\]/);
    expect(help.stdout).toMatch(/\n {2}upload /);
  });
});
