/**
 * The vLLM stand-in as a process, taking `vllm serve`'s arguments so the worker can run it through
 * its model-server command template (`vllmStandinCommand()` gives the command with absolute paths):
 *
 *   node --import tsx test/support/vllm-standin-main.ts serve <model_dir> --host H --port P \
 *     [--served-model-name NAME] [--startup-delay-ms N] [--latency-ms N] [--token-latency-ms N] [--tokens N]
 *     [--max-concurrency N] [--crash-after-ms N]
 *
 * Behaviour spec:
 * - `serve` is optional; the positional (or `--model`) is the model, as for vLLM, and the served
 *   name is `--served-model-name`, else the model, else "standin-model". Defaults: host 127.0.0.1
 *   (vLLM's is 0.0.0.0, but tests stay on loopback: any other host is refused, exit 2), port 8000.
 * - Every SYNKTI_STANDIN_<FLAG> variable (e.g. SYNKTI_STANDIN_STARTUP_DELAY_MS,
 *   SYNKTI_STANDIN_LATENCY_MS, SYNKTI_STANDIN_TOKEN_LATENCY_MS, SYNKTI_STANDIN_TOKENS, SYNKTI_STANDIN_MAX_CONCURRENCY,
 *   SYNKTI_STANDIN_CRASH_AFTER_MS) sets the flag's default, so a fixed command template can be
 *   tuned per test; flags win. Other vLLM flags (`--gpu-memory-utilization 0.9`, ...) are ignored.
 * - `--api-key KEY`, else the VLLM_API_KEY environment variable, as vLLM: /v1 paths then need
 *   `Authorization: Bearer KEY` (see vllm-standin.ts). The key is never printed.
 * - SYNKTI_STANDIN_REQUIRE_MODEL_DIR=1: a model folder that does not exist is a start-up failure
 *   (exit 1), as vLLM fails to load missing weights.
 * - Logs uvicorn-like lines to stdout, "Uvicorn running on http://H:P" once it listens.
 *   SIGTERM/SIGINT: graceful close (in-flight requests finish, up to SYNKTI_STANDIN_GRACE_MS,
 *   default 5000), exit 0; a second signal exits 1 at once. `--crash-after-ms`: exit 1 abruptly
 *   after that long, playing a dying engine.
 */
import { existsSync } from "node:fs";
import { parseServeArgs, startVllmStandin } from "./vllm-standin.js";

const NUMERIC = ["port", "startup-delay-ms", "latency-ms", "token-latency-ms", "tokens", "max-concurrency", "crash-after-ms", "grace-ms", "max-model-len"];

function fail(code: number, message: string): never {
  process.stderr.write(`ERROR: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const { positionals, flags } = parseServeArgs(process.argv.slice(2));
  if (positionals[0] === "serve") positionals.shift();
  const setting = (name: string) => flags.get(name) ?? process.env[`SYNKTI_STANDIN_${name.toUpperCase().replace(/-/g, "_")}`];
  const number = (name: string, fallback?: number) => {
    const raw = setting(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) fail(2, `--${name} must be a non-negative integer, got ${raw}`);
    return value;
  };
  for (const name of flags.keys()) if (NUMERIC.includes(name)) number(name);

  const modelDir = positionals[0] ?? flags.get("model");
  const host = setting("host") ?? "127.0.0.1";
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) fail(2, `the stand-in listens on 127.0.0.0/8 only, not on ${host}`);
  if (setting("require-model-dir") === "1" && (modelDir === undefined || !existsSync(modelDir))) {
    fail(1, `model folder not found: ${modelDir ?? "(none given)"}`);
  }
  const startupDelayMs = number("startup-delay-ms", 0)!;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`INFO ${new Date().toISOString()} [standin] Loading model ${modelDir ?? "(none)"}; the API server starts in ${startupDelayMs} ms`);

  const standin = await startVllmStandin({
    host,
    port: number("port", 8000),
    model: flags.get("served-model-name") ?? modelDir ?? "standin-model",
    ...(modelDir !== undefined ? { modelPath: modelDir } : {}),
    startupDelayMs,
    latencyMs: number("latency-ms", 0),
    tokenLatencyMs: number("token-latency-ms", 0),
    tokens: number("tokens", 16),
    maxConcurrency: number("max-concurrency"),
    maxModelLen: number("max-model-len"),
    apiKeys: [flags.get("api-key") ?? process.env.VLLM_API_KEY ?? ""].filter(Boolean),
    log,
  });
  standin.ready.catch((error: unknown) => fail(1, `could not start the API server: ${String(error)}`));

  const crashAfterMs = number("crash-after-ms");
  if (crashAfterMs !== undefined) {
    setTimeout(() => fail(1, "EngineCore encountered a fatal error (stand-in --crash-after-ms)"), crashAfterMs);
  }

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    log(`INFO:     Received ${signal}`);
    void standin.close(number("grace-ms", 5000)).then(() => process.exit(0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

await main();
