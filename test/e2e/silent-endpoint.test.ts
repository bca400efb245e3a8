import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentServer, type SilentServer } from "../support/free-port.js";
import { ImdsEmulator } from "../support/imds-emulator.js";
import { vllmStandinCommandTemplate } from "../support/vllm-standin.js";
import { MODEL, weightsFolder } from "../integration/worker/harness.js";
import { projectNames } from "../../src/infra/names.js";
import { BINARY, runCli, type CliResult } from "../support/run-cli.js";

/**
 * AWS_ENDPOINT_URL at a port that accepts connections and never answers (a wrong endpoint, a
 * captive proxy, a black-holed VPN): every command that calls AWS must end, with exit 3 and a
 * message naming the endpoint, within the bound the README states (SYNKTI_AWS_TIMEOUT_MS + 10 s).
 * Before the deadlines were real, `status` waited for ever and `preflight` never exited.
 */
const TIMEOUT_MS = 2000;
const README_BOUND_MS = TIMEOUT_MS + 10_000;
const PROJECT = "silent-e2e";
const INSTANCE = "i-0123456789abcdef0";

let silent: SilentServer;
let weights: string;

/** Every command that calls AWS, with the arguments a user would give it. */
function awsCommands(): Record<string, string[]> {
  const p = ["--project-name", PROJECT];
  return {
    preflight: ["preflight", ...p, "--model", "tiny"],
    status: ["status", ...p],
    down: ["down", ...p],
    leaks: ["leaks", ...p],
    "infra up": ["infra", "up", ...p],
    "infra status": ["infra", "status", ...p],
    "infra destroy": ["infra", "destroy", ...p, "--yes"],
    "upload binary": ["upload", "binary", ...p, "--file", BINARY],
    "upload model": ["upload", "model", ...p, "--model", "tiny", "--from", weights],
    launch: [...p, "--model", "tiny", "--workers", "1"],
    // Without --workers the launch reads the desired size before its preflight: still one deadline.
    "launch keeping the desired size": [...p, "--model", "tiny"],
    logs: ["logs", ...p, INSTANCE],
    endpoint: ["endpoint", ...p],
  };
}
/** Commands that never call AWS (context asks only the metadata service, closed here). */
const LOCAL_COMMANDS = new Set(["version", "context", "help"]);

/** Command names as `synkti [group] --help` lists them. */
async function listed(group: string[] = []): Promise<string[]> {
  const help = await runCli([...group, "--help"]);
  const section = help.stdout.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? "";
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!);
}

/** Runs at most `limit` commands at once: ten 130 MB binaries starting together on 2 cores would measure start-up, not deadlines. */
async function runAll(commands: Array<[string, string[]]>, limit: number) {
  const results = new Map<string, CliResult>();
  const queue = [...commands];
  const env = { AWS_ENDPOINT_URL: silent.url, SYNKTI_AWS_TIMEOUT_MS: String(TIMEOUT_MS) };
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        results.set(next[0], await runCli(next[1], { env, timeoutMs: 45_000 }));
      }
    }),
  );
  return results;
}

beforeAll(async () => {
  silent = await silentServer();
  weights = mkdtempSync(path.join(tmpdir(), "synkti-silent-weights-"));
  writeFileSync(path.join(weights, "config.json"), JSON.stringify({ model_type: "tiny" }));
  writeFileSync(path.join(weights, "model.safetensors"), Buffer.alloc(100_000, 7));
});
afterAll(async () => {
  await silent?.close();
});

describe("a silent AWS endpoint (accepts, never answers)", () => {
  it("every command that calls AWS ends within the README's bound with exit 3, naming the endpoint", { timeout: 120_000 }, async () => {
    const known = awsCommands();
    // The list above must keep up with the CLI: a new command is either here or known not to call AWS.
    const top = await listed();
    const groups = ["infra", "upload"];
    const names = [
      ...top.filter((c) => !groups.includes(c)),
      ...(await Promise.all(groups.map(async (g) => (await listed([g])).filter((c) => c !== "help").map((c) => `${g} ${c}`)))).flat(),
    ];
    expect(names.length).toBeGreaterThan(8);
    const unknown = names.filter((n) => !LOCAL_COMMANDS.has(n) && !(n in known));
    expect(unknown, "commands missing from the silent-endpoint test").toEqual([]);
    const toRun = Object.entries(known).filter(([name]) => name.startsWith("launch") || names.includes(name));

    const results = await runAll(toRun, 4);

    for (const [name] of toRun) {
      const r = results.get(name)!;
      const output = `${r.stdout}\n${r.stderr}`;
      const where = `${name}: exit ${r.code} after ${r.durationMs} ms${r.timedOut ? " (killed: it hung)" : ""}\n${output.slice(0, 1500)}`;
      expect(r.timedOut, where).toBe(false);
      expect(r.code, where).toBe(3);
      expect(r.durationMs, where).toBeLessThan(README_BOUND_MS);
      expect(output, where).toContain(`AWS did not answer at ${silent.url}`);
      expect(output, where).toContain("SYNKTI_AWS_TIMEOUT_MS"); // what sets the wait, in the fix
      expect(output, where).not.toMatch(/\n\s+at .+:\d+:\d+/); // never a stack trace
    }
    // preflight and the launch's own preflight say UNKNOWN, and still exit
    expect(results.get("preflight")!.stdout).toMatch(/UNKNOWN/);
    expect(results.get("launch")!.stdout).toMatch(/UNKNOWN/);
  });

  it("a worker's AWS calls end at the same deadline; its boot patience (asking again for 60 s) is unchanged", { timeout: 60_000 }, async () => {
    // Everything local is in place (identity, role, weights, model server), so only AWS is unknown.
    const imds = await ImdsEmulator.start({ instanceId: INSTANCE, tags: { SynktiCluster: PROJECT, SynktiRole: "worker" }, iamRole: projectNames(PROJECT).role });
    try {
      // Watched for 10 s of its 60 s patience: without the deadline, the first attempt alone lasted
      // until the requirement's own 15 s limit, its AWS call still hanging after that.
      const r = await runCli(["agent", "--project-name", PROJECT, "--model", MODEL], {
        env: {
          AWS_ENDPOINT_URL: silent.url,
          AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
          SYNKTI_AWS_TIMEOUT_MS: String(TIMEOUT_MS),
          SYNKTI_MODELS_DIR: weightsFolder(),
          SYNKTI_MODEL_SERVER_COMMAND: vllmStandinCommandTemplate(),
          SYNKTI_WORKER_DRY_RUN: "1",
        },
        timeoutMs: 10_000,
      });
      const attempts = r.stderr.match(/worker preflight could not observe [^;]*; asking again/g) ?? [];
      expect(attempts.length, r.stderr.slice(0, 3000)).toBeGreaterThanOrEqual(2);
    } finally {
      await imds.close();
    }
  });

  it("a bad SYNKTI_AWS_TIMEOUT_MS is a usage error (exit 2) naming the valid values, before any AWS call", async () => {
    const before = silent.connections();
    for (const value of ["soon", "50", "1.5"]) {
      const r = await runCli(["status", "--project-name", PROJECT], { env: { AWS_ENDPOINT_URL: silent.url, SYNKTI_AWS_TIMEOUT_MS: value } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`SYNKTI_AWS_TIMEOUT_MS='${value}' is not valid`);
      expect(r.stderr).toMatch(/from 100 to 600000/);
    }
    expect(silent.connections()).toBe(before);
  });
});
