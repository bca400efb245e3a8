import { describe, expect, it } from "vitest";
import { outputLineLevel, startProcessGroup } from "../../../src/worker/model-server/process-group.js";
import { redactSecrets } from "../../../src/core/redact.js";
import { FakeClock } from "../../support/fake-clock.js";
import { captureLogs } from "../../support/log-capture.js";
import { FakeProcesses } from "./fake-process.js";

// The model server's output is logged line by line; a successful probe's access-log line is debug.
describe("model server output levels", () => {
  it.each([
    ['(APIServer pid=1) INFO:     172.31.5.6:52430 - "GET /health HTTP/1.1" 200 OK', "debug"],
    ['INFO:     127.0.0.1:33532 - "GET /metrics HTTP/1.1" 200', "debug"],
    ['INFO:     127.0.0.1:1 - "GET /ping HTTP/1.1" 200 OK', "debug"],
    // A failing probe is news: the engine is dead or not up yet.
    ['(APIServer pid=1) INFO:     172.31.5.6:52430 - "GET /health HTTP/1.1" 503 Service Unavailable', "info"],
    // Client traffic and everything else the server says.
    ['INFO:     10.0.0.9:40000 - "POST /v1/completions HTTP/1.1" 200 OK', "info"],
    ['INFO:     10.0.0.9:40000 - "GET /v1/models HTTP/1.1" 200 OK', "info"],
    ['INFO:     10.0.0.9:40000 - "GET /healthz HTTP/1.1" 200 OK', "info"],
    ["(APIServer pid=1) INFO 11-30 06:00:00 [api_server.py:1] Starting vLLM API server on http://172.31.5.6:8000", "info"],
    ["EngineCore encountered a fatal error", "info"],
  ])("%s: %s", (line, level) => {
    expect(outputLineLevel(line)).toBe(level);
  });
});

describe("model server output and secrets", () => {
  it("a line that carries the API key is logged with the key replaced", async () => {
    const key = "k_0123456789abcdefghijklmnopqrstuvwxyzABCDE";
    const procs = new FakeProcesses();
    const { log, lines } = captureLogs("debug");
    startProcessGroup({ spawn: procs.spawn, kill: procs.kill, clock: new FakeClock(), log, redact: (line) => redactSecrets(line, [key]) }, ["vllm", "serve"], {});
    procs.latest().stdout.write(`DEBUG environment VLLM_API_KEY copy: ${key}\nplain line\n`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines.map((l) => l.msg)).toEqual(["DEBUG environment VLLM_API_KEY copy: <redacted>", "plain line"]);
  });
});
