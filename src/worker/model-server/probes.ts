import type { Clock } from "../../core/clock.js";
import { httpGet } from "../../core/http-client.js";

/** vLLM's /health is empty; /metrics is Prometheus text, tens of KiB with every histogram of a few models. */
const HEALTH_MAX_BYTES = 64 * 1024;
const METRICS_MAX_BYTES = 4 * 1024 * 1024;

/**
 * What the agent asks its model server. vLLM's `GET /health` is 200 only once the engine is up (and
 * 5xx after an EngineDeadError); `GET /metrics` is Prometheus text whose gauge
 * `vllm:num_requests_running` (one series per `model_name` label) counts requests being served.
 */
export interface ModelServerProbes {
  healthy(signal?: AbortSignal): Promise<boolean>;
  /** Requests running now, or undefined when /metrics is unavailable or lacks the gauge. */
  inFlight(signal?: AbortSignal): Promise<number | undefined>;
}

export function httpProbes(baseUrl: string, timeoutMs = 1000): ModelServerProbes {
  return {
    async healthy(signal) {
      try {
        return (await httpGet(`${baseUrl}/health`, { timeoutMs, maxBytes: HEALTH_MAX_BYTES, ...(signal ? { signal } : {}) })).status === 200;
      } catch {
        return false; // refused (still loading, or dead), timed out (hung): not healthy either way
      }
    },
    async inFlight(signal) {
      try {
        const answer = await httpGet(`${baseUrl}/metrics`, { timeoutMs, maxBytes: METRICS_MAX_BYTES, ...(signal ? { signal } : {}) });
        return answer.status === 200 ? runningRequests(answer.body) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** Sum of `vllm:num_requests_running` over its label sets, or undefined when absent. */
export function runningRequests(metrics: string): number | undefined {
  let total: number | undefined;
  for (const line of metrics.split("\n")) {
    const match = /^vllm:num_requests_running(?:\{[^}]*\})?\s+(\S+)/.exec(line.trim());
    if (!match) continue;
    const value = Number(match[1]);
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

/**
 * One /metrics reading shared for `maxAgeMs`: every peer round and `synkti status` asks /status, and
 * each answer must not scrape the model server again (concurrent asks share the reading in flight).
 * The drain reads afresh: it decides on the count.
 */
export function recentReading<T>(read: () => Promise<T>, clock: Pick<Clock, "now">, maxAgeMs = 1000): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = clock.now();
    if (!last || now - last.at >= maxAgeMs) last = { at: now, value: read() };
    return last.value;
  };
}
