import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { awsEnvFor, startMoto } from "../../test/support/moto.js";
import { startFaultProxy } from "../../test/support/fault-proxy.js";
const run = promisify(execFile);
const moto = await startMoto();
const proxy = await startFaultProxy({ target: moto.url });
const env = { ...process.env, ...awsEnvFor(proxy.url) };
const bin = process.argv[2] === "aws" ? "aws" : "synkti";
try {
  const once = async () => {
  await moto.reset();
  await run("aws", ["s3api", "create-bucket", "--bucket", "bench-upload-models", "--endpoint-url", moto.url], { env });
  proxy.resetCounts();
  const t0 = Date.now();
  if (bin === "synkti") await run("/work/wt/upload/dist/synkti", ["upload", "model", "--project-name", "bench-upload", "--model", "bench", "--from", "/tmp/upprof/weights", "--output", "json"], { env: { ...env, XDG_CACHE_HOME: `/tmp/upprof/cache-${Date.now()}` }, maxBuffer: 1 << 24 });
  else await run("aws", ["s3", "cp", "--recursive", "--only-show-errors", "/tmp/upprof/weights", "s3://bench-upload-models/awscli/", "--endpoint-url", proxy.url], { env });
  const end = Date.now() - t0;
  let last = "";
  const rows: string[] = [];
  for (const c of proxy.calls()) {
    const line = `${String(c.at - t0).padStart(5)} ${c.request.action} ${c.request.path.split("/").slice(-1)[0]?.slice(0, 30)} ${c.request.params.partNumber ?? ""}`;
    rows.push(line);
  }
  return [rows.join("\n"), `exit at ${end} ms`];
  };
  await once();
  const [rows, end] = await once();
  console.log(process.argv[3] === "full" ? rows : "", end);
} finally { await proxy.close(); await moto.stop(); }
