import { randomFillSync, createHash } from "node:crypto";
import net from "node:net";
import http from "node:http";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { sdkConfigFor, startMoto } from "../../test/support/moto.js";
const MiB = 1 << 20;
const moto = await startMoto();
const s3 = new S3Client(sdkConfigFor(moto.url));
await s3.send(new CreateBucketCommand({ Bucket: "bench-exp-models" }));
const sizes = [192 * MiB, ...Array(8).fill(12 * MiB)];
for (const [i, size] of sizes.entries()) await s3.send(new PutObjectCommand({ Bucket: "bench-exp-models", Key: `k${i}`, Body: randomFillSync(Buffer.alloc(size)), ACL: "public-read" }));
const jobs = sizes.flatMap((size, i) => Array.from({ length: Math.ceil(size / (64 * MiB)) }, (_, j) => ({ key: `k${i}`, start: j * 64 * MiB, end: Math.min(size, (j + 1) * 64 * MiB) - 1 })));
const url = new URL(moto.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const HASH = process.argv.includes("--hash");
const viaHttp = (j: any) => new Promise<void>((res, rej) => http.get({ host: url.hostname, port: url.port, path: `/bench-exp-models/${j.key}`, headers: { range: `bytes=${j.start}-${j.end}` }, agent }, (r) => { const h = createHash("sha256"); r.on("data", (d) => HASH && h.update(d)); r.on("end", res); r.on("error", rej); }).on("error", rej));
const viaOnread = (j: any) => new Promise<void>((res, rej) => {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let head = ""; let bodyLeft = -1; const h = createHash("sha256");
  const sock = net.connect({ host: url.hostname, port: Number(url.port), onread: { buffer, callback: (n: number, buf: Buffer) => {
    let at = 0;
    if (bodyLeft < 0) { head += buf.toString("latin1", 0, n); const e = head.indexOf("\r\n\r\n"); if (e < 0) return true; const len = Number(/content-length: (\d+)/i.exec(head)![1]); const headBytes = e + 4 - (head.length - n); at = headBytes; bodyLeft = len; }
    const take = Math.min(n - at, bodyLeft); if (HASH) h.update(buf.subarray(at, at + take)); bodyLeft -= take;
    if (bodyLeft === 0) { sock.destroy(); res(); }
    return true; } } } as any);
  sock.on("error", rej);
  sock.write(`GET /bench-exp-models/${j.key} HTTP/1.1\r\nHost: ${url.host}\r\nRange: bytes=${j.start}-${j.end}\r\n\r\n`);
});
async function time(label: string, f: (j: any) => Promise<void>) {
  const t = performance.now(); const c = process.cpuUsage();
  await Promise.all(jobs.map(f));
  const u = process.cpuUsage(c);
  console.log(label, HASH ? "+hash" : "", ((performance.now() - t) / 1000).toFixed(2), "s wall", ((u.user + u.system) / 1e6).toFixed(2), "s cpu");
}
for (let r = 0; r < 3; r++) { await time("http  ", viaHttp); await time("onread", viaOnread); }
await moto.stop(); process.exit(0);
