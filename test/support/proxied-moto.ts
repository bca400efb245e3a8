/**
 * moto behind the fault proxy, with this process's AWS environment pointed at the proxy (so the
 * code under test goes through it) and a direct S3 client on moto for the test's own setup and
 * reads. One bucket is created. `close` stops both and restores process.env exactly.
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { startFaultProxy, type FaultProxy } from "./fault-proxy.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "./moto.js";

export interface ProxiedMoto {
  moto: Moto;
  proxy: FaultProxy;
  /** Straight to moto, no retries: the test's own setup and reads, never seen by the proxy. */
  s3: S3Client;
  close(): Promise<void>;
}

export async function startProxiedMoto(bucket: string): Promise<ProxiedMoto> {
  const saved = { ...process.env };
  const moto = await startMoto();
  const proxy = await startFaultProxy({ target: moto.url });
  Object.assign(process.env, awsEnvFor(proxy.url));
  const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    moto,
    proxy,
    s3,
    async close() {
      s3.destroy();
      await proxy.close();
      await moto.stop();
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    },
  };
}
