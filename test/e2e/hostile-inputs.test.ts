import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { versionMarker } from "../../src/core/version.js";
import { elfHeader } from "../support/fake-elf.js";
import { runCli } from "../support/run-cli.js";

// Inputs a review found hostile (issue 14), each refused by the built binary with its exit code, what
// is wrong and the command to run. None of these needs AWS: they are refused before any call.
const dir = mkdtempSync(path.join(tmpdir(), "synkti-e2e-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** No AWS credentials of the test runner: each test sets its own. */
const NO_AWS = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined };

describe("upload binary --file: read, never run; a regular file only (built binary)", () => {
  it("a FIFO is exit 2 at once (it used to wait for a writer for ever)", async () => {
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const run = await runCli(["upload", "binary", "--project-name", "my-app", "--file", fifo], { timeoutMs: 15_000 });
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Error: --file ${fifo} is a FIFO (named pipe), not a regular file.\nRun: npm run build   # then: synkti upload binary --project-name my-app --file dist/synkti`);
  });

  it("/ is exit 2, not 'a bug'", async () => {
    const run = await runCli(["upload", "binary", "--project-name", "my-app", "--file", "/"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Error: --file / is a folder, not a regular file.\nRun: npm run build");
    expect(run.stderr).not.toMatch(/bug/);
  });

  it("an ELF header followed by shell text is refused as malformed, and the shell text never runs", async () => {
    const proof = path.join(dir, "shell-ran");
    const script = Buffer.from(`\n${versionMarker("0.1.0")}\ntouch ${proof}\nenv > ${proof}\n`);
    const file = path.join(dir, "elf-then-shell");
    writeFileSync(file, Buffer.concat([elfHeader({ fileSize: 64 + script.length }), script]), { mode: 0o755 });
    const run = await runCli(["upload", "binary", "--project-name", "my-app", "--file", file, "--output", "json"]);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      error: { code: "binary-malformed", message: expect.stringContaining("starts like a linux-x64 ELF executable, but"), remedy: "npm run build   # then: synkti upload binary --project-name my-app --file dist/synkti" },
    });
    expect(existsSync(proof)).toBe(false);
  });
});

describe("environment variables are checked up front (built binary)", () => {
  it("SYNKTI_LOG_LEVEL=silly is exit 2 with the valid levels (it was exit 4)", async () => {
    const run = await runCli(["status", "--project-name", "my-app"], { env: { SYNKTI_LOG_LEVEL: "silly" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "Error: SYNKTI_LOG_LEVEL='silly' is not valid; it must be one of fatal, error, warn, info, debug, trace, silent.\nRun: export SYNKTI_LOG_LEVEL=debug   # or: unset SYNKTI_LOG_LEVEL\n",
    );
  });
});

describe("counts are plain decimal integers (built binary)", () => {
  it.each(["0x10", "1e2", "+3", " 5 ", "", "5.0"])("--workers '%s' is exit 2 with the rule and the help to read", async (value) => {
    const run = await runCli(["preflight", "--project-name", "my-app", "--workers", value]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`argument '${value}' is invalid. must be a whole number from 1 to 100, in plain decimal digits (e.g. --workers 3)`);
    expect(run.stderr).toContain("(run synkti help preflight for its options and an example)");
  });
});

describe("upload model --from: regular files inside the folder only (built binary)", () => {
  it("a folder of links out of it (/proc, /etc) has nothing to upload: exit 2 naming what was skipped and why", async () => {
    const from = path.join(dir, "links-out");
    mkdirSync(from);
    symlinkSync("/proc/self/environ", path.join(from, "environ"));
    symlinkSync("/etc", path.join(from, "etc"));
    const run = await runCli(["upload", "model", "--project-name", "my-app", "--model", "tiny", "--from", from]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Error: --from \S+ holds no files to upload \(skipped: environ \(a link to \/proc\/\d+\/environ, outside the folder\), etc \(a link to \/etc, outside the folder\)\)\./);
    expect(run.stderr).toContain("Run: synkti upload model --project-name my-app --model tiny --from <weights-dir>");
  });
});

describe("credentials that fail say which source and why (built binary)", () => {
  const config = path.join(dir, "aws-config");
  writeFileSync(
    config,
    [
      "[profile failing]",
      `credential_process = sh -c "echo 'the token expired: run my-login' >&2; exit 3"`,
      "[profile garbage]",
      "credential_process = echo not-json",
      "",
    ].join("\n"),
  );
  const env = (extra: Record<string, string | undefined>) => ({ ...NO_AWS, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "none"), AWS_REGION: "us-east-1", ...extra });
  const status = (extra: Record<string, string | undefined>) => runCli(["status", "--project-name", "my-app"], { env: env(extra) });

  it("a credential_process that exits non-zero: the profile, the command's failure and its stderr", async () => {
    const run = await status({ AWS_PROFILE: "failing" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Error: AWS credentials could not be loaded while listing the workers: profile 'failing' of ${config} failed: Command failed: sh -c`);
    expect(run.stderr).toContain("the token expired: run my-login");
    expect(run.stderr).toContain("Run: aws sts get-caller-identity --profile failing   # shows the same failure");
  });

  it("a credential_process that prints no JSON", async () => {
    const run = await status({ AWS_PROFILE: "garbage" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`profile 'garbage' of ${config} failed: Profile garbage credential_process returned invalid JSON.\nRun: aws sts get-caller-identity --profile garbage`);
  });

  it("expired credentials in the environment", async () => {
    const run = await status({ AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_SESSION_TOKEN: "token", AWS_CREDENTIAL_EXPIRATION: "2020-01-01T00:00:00Z" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("environment variables (AWS_ACCESS_KEY_ID...) failed: they expired at 2020-01-01T00:00:00.000Z.\nRun: aws sts get-caller-identity");
    expect(run.stderr).not.toContain("secret");
  });

  it("malformed: half a key pair, or a profile nobody wrote", async () => {
    const half = await status({ AWS_ACCESS_KEY_ID: "AKIAEXAMPLE" });
    expect(half.code).toBe(1);
    expect(half.stderr).toContain("environment variables (AWS_ACCESS_KEY_ID...) failed: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not.");
    const typo = await status({ AWS_PROFILE: "prod-typo" });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(`profile 'prod-typo' of ${config} failed: there is no such profile in the AWS config or credentials file.`);
  });

  it("nothing set up at all still says so, with how to set it up", async () => {
    const run = await status({});
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Error: No AWS credentials were found while listing the workers: none is set up (tried environment variables (AWS_ACCESS_KEY_ID...), profile 'default'");
    expect(run.stderr).toContain("Run: aws configure --profile <profile>");
  });
});
