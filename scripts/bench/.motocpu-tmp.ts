import { readFileSync, readdirSync } from "node:fs";
import { awsEnvFor, sdkConfigFor, startMoto } from "../../test/support/moto.js";
import { S3Client, HeadObjectCommand, CreateBucketCommand, PutObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
const moto = await startMoto();
const cpu = () => { let t = 0; for (const pid of readdirSync("/proc")) { if (!/^\d+$/.test(pid)) continue; try { const st = readFileSync(`/proc/${pid}/stat`, "utf8"); const f = st.slice(st.lastIndexOf(")") + 2).split(" "); if (Number(f[2]) === moto.pid || Number(pid) === moto.pid) t += (Number(f[11]) + Number(f[12])) / 100; } catch {} } return t; };
const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
try {
  await s3.send(new CreateBucketCommand({ Bucket: "bench-b" }));
  for (let i = 0; i < 21; i++) await s3.send(new PutObjectCommand({ Bucket: "bench-b", Key: `k${i}`, Body: "x" }));
  for (const label of ["head-missing", "head-present", "list"]) {
    const c0 = cpu(); const t0 = Date.now();
    for (let i = 0; i < 200; i++) {
      if (label === "list") await s3.send(new ListObjectsV2Command({ Bucket: "bench-b", Prefix: "k" }));
      else await s3.send(new HeadObjectCommand({ Bucket: "bench-b", Key: label === "head-missing" ? `nope${i}` : `k${i % 21}` })).catch(() => undefined);
    }
    console.log(label, "moto cpu ms/req", ((cpu() - c0) / 200 * 1000).toFixed(2), "wall ms/req", ((Date.now() - t0) / 200).toFixed(2));
  }
} finally { await moto.stop(); }
