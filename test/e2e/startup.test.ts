import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BINARY, runCli } from "../support/run-cli.js";

/** Runs the binary with a stdout pipe whose reader is gone before it writes (`synkti ... | true`). */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
}

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

  it("a reader that is gone before the answer (synkti --version | true) is no error: exit 0, no stack trace", async () => {
    for (const args of [["--version"], ["--help"]]) {
      expect(await runIntoClosedPipe(args), args.join(" ")).toEqual({ code: 0, stderr: "" });
    }
  });
});
