/**
 * The stand-in as the worker will run it: the command template, `vllm serve`-style arguments,
 * SYNKTI_STANDIN_* tuning, the "Uvicorn running on" line, graceful SIGTERM and failure exits.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { until } from "../../support/until.js";
import { freePort } from "../../support/free-port.js";
import { vllmStandinCommand, vllmStandinCommandTemplate } from "../../support/vllm-standin.js";

/** Fills the template as the worker does and starts it in its own process group. */
function run(values: { model_dir: string; model?: string; host: string; port: number }, env: Record<string, string> = {}, extra: string[] = []) {
  const all = { model: path.basename(values.model_dir), ...values };
  const filled = vllmStandinCommandTemplate().replace(/\{(\w+)\}/g, (_, key: string) => String(all[key as keyof typeof all]));
  return start([...filled.split(" "), ...extra], env);
}

function start([command, ...args]: string[], env: Record<string, string> = {}) {
  const child = spawn(command!, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const kill = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return { child, exit, kill, out: () => stdout, err: () => stderr };
}

const waitFor = (check: () => boolean, ms: number, what: string) => until(what, check, ms, 20);

describe("vllm-standin-main", () => {
  it("takes its API key from VLLM_API_KEY, and from --api-key over it, as vLLM does; never prints it", async () => {
    const serve = async (extra: string[]) => {
      const port = await freePort();
      const proc = run({ model_dir: "/models/tiny", host: "127.0.0.1", port }, { VLLM_API_KEY: "from-the-env-4567" }, extra);
      try {
        await waitFor(() => proc.out().includes("Uvicorn running on"), 15_000, "the Uvicorn line");
        const status = async (key?: string) => (await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} })).status;
        return { anonymous: await status(), env: await status("from-the-env-4567"), flag: await status("from-the-flag-123"), health: (await fetch(`http://127.0.0.1:${port}/health`)).status, output: proc.out() + proc.err() };
      } finally {
        proc.kill();
      }
    };
    const fromEnv = await serve([]);
    expect(fromEnv).toMatchObject({ anonymous: 401, env: 200, flag: 401, health: 200 });
    expect(fromEnv.output).not.toContain("from-the-env-4567");
    expect(await serve(["--api-key", "from-the-flag-123"])).toMatchObject({ anonymous: 401, env: 401, flag: 200 });
  }, 60_000);

  it("serves after its start-up delay, logs like uvicorn, and drains on SIGTERM before exiting 0", async () => {
    const port = await freePort();
    const proc = run({ model_dir: "/models/tiny", host: "127.0.0.1", port }, { SYNKTI_STANDIN_STARTUP_DELAY_MS: "300", SYNKTI_STANDIN_LATENCY_MS: "400" }, ["--gpu-memory-utilization", "0.9"]);
    try {
      await waitFor(() => proc.out().includes("Uvicorn running on"), 15_000, "the Uvicorn line");
      expect(proc.out()).toContain(`Uvicorn running on http://127.0.0.1:${port}`);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      // --served-model-name from the template: the model answers to its name, not its folder path.
      const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: { id: string; root: string }[] };
      expect(models.data).toEqual([expect.objectContaining({ id: "tiny", root: "/models/tiny" })]);
      const complete = (model: string) => fetch(`http://127.0.0.1:${port}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, prompt: "x", max_tokens: 1 }) });
      expect((await complete("tiny")).status).toBe(200);
      const byPath = await complete("/models/tiny");
      expect(byPath.status).toBe(404);
      expect(await byPath.json()).toMatchObject({ message: "The model `/models/tiny` does not exist.", type: "NotFoundError" });

      const inFlight = fetch(`http://127.0.0.1:${port}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: "x", max_tokens: 2 }) });
      await new Promise((resolve) => setTimeout(resolve, 100));
      proc.child.kill("SIGTERM");
      expect((await inFlight).status).toBe(200); // drained, not cut
      expect(await proc.exit).toBe(0);
      expect(proc.out()).toMatch(/Received SIGTERM[\s\S]*Finished server process/);
    } finally {
      proc.kill();
    }
  });

  it("without --served-model-name serves under the model path, as vLLM does", async () => {
    const port = await freePort();
    const proc = start([...vllmStandinCommand().split(" "), "/models/tiny", "--host", "127.0.0.1", "--port", String(port)]);
    try {
      await waitFor(() => proc.out().includes("Uvicorn running on"), 15_000, "the Uvicorn line");
      const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data[0]!.id).toBe("/models/tiny");
    } finally {
      proc.kill();
    }
  });

  it("fails like vLLM: missing model folder exits 1, non-loopback host exits 2, --crash-after-ms exits 1", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "synkti-standin-"));
    const port = await freePort();
    const missing = run({ model_dir: path.join(dir, "absent"), host: "127.0.0.1", port }, { SYNKTI_STANDIN_REQUIRE_MODEL_DIR: "1" });
    const wide = run({ model_dir: dir, host: "0.0.0.0", port });
    const crash = run({ model_dir: dir, host: "127.0.0.1", port }, {}, ["--crash-after-ms", "200"]);
    try {
      expect(await missing.exit).toBe(1);
      expect(missing.err()).toContain("model folder not found");
      expect(await wide.exit).toBe(2);
      expect(wide.err()).toContain("127.0.0.0/8");
      expect(await crash.exit).toBe(1);
      expect(crash.err()).toContain("EngineCore");
    } finally {
      for (const p of [missing, wide, crash]) p.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
