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
