// `npm run demo`'s traffic: completions sent through the load balancer (in the local cloud, its
// stand-in), and which worker answered each. Neither ALB nor vLLM names the worker in a response, so
// the demo counts instead, as one would on AWS from inside the VPC: each worker's vLLM
// `vllm:request_success_total` (its /metrics) before and after each request, sent one at a time;
// the worker whose count grew served it. In the local cloud every worker's address is on loopback.

import { MODEL_SERVER_PORT } from "../src/infra/ports.js";
import { complete as completeCarefully } from "../test/support/completion-client.js";

export interface Worker {
  instanceId: string;
  address: string;
}

export interface Answered {
  status: number;
  ms: number;
  /** The worker whose vLLM counted the request; null when none did (e.g. a refusal). */
  worker: Worker | null;
}

/** Requests a worker's vLLM has finished, from its Prometheus metrics. */
async function served(worker: Worker): Promise<number> {
  const text = await (await fetch(`http://${worker.address}:${MODEL_SERVER_PORT}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("vllm:request_success_total"))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

const counts = (workers: Worker[]) => Promise.all(workers.map(served));

/** One completion through `url`, with the key or (key undefined) without it. */
export async function complete(url: string, model: string, key: string | undefined): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ model, prompt: "Hello", max_tokens: 5 }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await response.text();
  return { status: response.status, ms: Math.round(performance.now() - started), body };
}

/** Sends `count` completions one after another and says, for each, which worker served it. */
export async function sendAndAttribute(url: string, model: string, key: string, workers: Worker[], count: number, each: (n: number, a: Answered) => void): Promise<Answered[]> {
  const answers: Answered[] = [];
  let before = await counts(workers);
  for (let n = 1; n <= count; n += 1) {
    const { status, ms } = await complete(url, model, key);
    const after = await counts(workers);
    const grew = workers.filter((_, i) => after[i]! > before[i]!);
    const answered = { status, ms, worker: grew.length === 1 ? grew[0]! : null };
    before = after;
    answers.push(answered);
    each(n, answered);
  }
  return answers;
}

/** Requests sent, answered (200, whole body) and failed so far, by the careful client of "no failed request". */
export interface TrafficCounts {
  sent: number;
  answered: number;
  failed: number;
}

/**
 * Steady traffic for the failover: `concurrency` loops, each sending one completion after another
 * through `url` until `stop()`, with the client the e2e tests count failures by (one retry, only when
 * refused or 502/503, as a careful user of the endpoint does). `counts()` at any moment.
 */
export function steadyCompletions(url: string, model: string, apiKey: string, concurrency: number) {
  const counts: TrafficCounts = { sent: 0, answered: 0, failed: 0 };
  const failures: string[] = [];
  let stopping = false;
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stopping) {
      counts.sent += 1;
      const result = await completeCarefully(url, { model, prompt: "Hello", max_tokens: 4 }, { apiKey });
      if (result.ok) counts.answered += 1;
      else {
        counts.failed += 1;
        failures.push(`${result.status ?? "no status"} ${result.error ?? ""} (${result.attempts.join(", ")})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  return {
    counts: (): TrafficCounts => ({ ...counts }),
    failures: () => [...failures],
    stop: async (): Promise<TrafficCounts> => {
      stopping = true;
      await Promise.all(loops);
      return { ...counts };
    },
  };
}
