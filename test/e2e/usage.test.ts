import { describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

describe("usage errors (built binary)", () => {
  it("exit 2; with --output json a JSON error on stdout, commander's words on stderr", async () => {
    const json = await runCli(["status", "--output", "json", "--workers-typo", "3"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: "usage", message: expect.stringMatching(/project-name|unknown option/), remedy: "synkti --help" } });
    expect(json.stderr).toMatch(/^error: /);

    const text = await runCli(["status", "--workers-typo", "3"]);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe("");
  });
});

describe("help a newcomer can follow (built binary)", () => {
  it("synkti help <command> [<subcommand>] prints that command's help, exit 0", async () => {
    const help = await runCli(["help", "upload", "model"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: synkti upload model --project-name <name> --model <model> --from <dir> \[options\]/);
    expect(help.stdout).toMatch(/Examples:\n {2}huggingface-cli download/);
    const root = await runCli(["help"]);
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/^Usage: synkti <command> \[options\]/);
  });

  it("an unknown command says so, suggests the near one and lists the commands: exit 2, nothing launched", async () => {
    const typo = await runCli(["statsu", "--project-name", "my-app"]);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe("");
    expect(typo.stderr).toMatch(/unknown command 'statsu' \(did you mean status\?\)\nCommands of synkti: version, context, preflight, status, down, leaks, logs, upload, infra, endpoint, help/);
    const nested = await runCli(["help", "upload", "modle"]);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toMatch(/unknown command 'modle' \(did you mean model\?\)\nCommands of synkti upload: binary, model/);
  });
});

describe("--model-server-command on a deployer", () => {
  it("is refused (exit 2): a launch cannot carry it to the workers", async () => {
    const run = await runCli(["--project-name", "my-app", "--model", "tiny", "--model-server-command", "my-server {model_dir} --port {port}", "--output", "json"]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: "model-server-command-on-deployer", message: expect.stringContaining("worker only"), remedy: "synkti --project-name my-app --model tiny" } });
  });
});
