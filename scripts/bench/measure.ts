import { spawnSync } from "node:child_process";

/** Wall time of one run of a command, in milliseconds. */
export function timeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, stdio: "ignore" });
  if (result.error) throw result.error;
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Runs `sample` `runs` times after one warm-up and returns the samples. */
export async function repeat(runs: number, sample: () => number | Promise<number>): Promise<number[]> {
  await sample();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await sample());
  return samples;
}

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

export function summary(label: string, samples: number[]): string {
  return `${label.padEnd(44)} p50 ${fmt(percentile(samples, 50)).padStart(10)}  p90 ${fmt(percentile(samples, 90)).padStart(10)}  (n=${samples.length})`;
}

/** "p50 … ms  p95 … ms  max … ms", whole milliseconds right-aligned to `width` (the chained cluster benches). */
export function p50p95max(samples: number[], width = 5): string {
  const at = (p: number) => `${percentile(samples, p).toFixed(0).padStart(width)} ms`;
  return `p50 ${at(50)}  p95 ${at(95)}  max ${at(100)}`;
}
