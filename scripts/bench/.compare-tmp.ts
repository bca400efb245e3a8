import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { awsEnvFor, startMoto } from "../../test/support/moto.js";
const run = promisify(execFile);
const moto = await startMoto();
const env = { ...process.env, ...awsEnvFor(moto.url) };
const variants = process.argv.slice(3);
const rounds = Number(process.argv[2]);
const times = new Map<string, number[]>(variants.map((v) => [v, []]));
const go = async (v: string) => {
  await moto.reset();
  await run("aws", ["s3api", "create-bucket", "--bucket", "bench-upload-models", "--endpoint-url", moto.url], { env });
  const [who, order, conc] = v.split(":");
  const t = process.hrtime.bigint();
  if (who === "aws") await run("aws", ["s3", "cp", "--recursive", "--only-show-errors", "/tmp/upprof/weights", "s3://bench-upload-models/awscli/", "--endpoint-url", moto.url], { env });
  else await run("/work/wt/upload/dist/synkti", ["upload", "model", "--project-name", "bench-upload", "--model", "bench", "--from", "/tmp/upprof/weights", "--output", "json", "--concurrency", conc ?? "8"], { env: { ...env, SYNKTI_EXP_ORDER: order ?? "largest", XDG_CACHE_HOME: `/tmp/upprof/cache-${Date.now()}` }, maxBuffer: 1 << 24 });
  return Number(process.hrtime.bigint() - t) / 1e9;
};
try {
  for (const v of variants) await go(v); // warm-up
  for (let r = 0; r < rounds; r++) for (const v of r % 2 ? [...variants].reverse() : variants) times.get(v)!.push(await go(v));
  for (const [v, xs] of times) { const s = [...xs].sort((a, b) => a - b); console.log(v.padEnd(22), "best", s[0]!.toFixed(2), "median", s[Math.floor(s.length / 2)]!.toFixed(2), "runs", xs.map((x) => x.toFixed(2)).join(" ")); }
} finally { await moto.stop(); }
