/**
 * Shared set-up for the upload integration tests: one moto per test file, the real AWS client
 * factory pointed at it through the standard AWS_ENDPOINT_URL, a raw S3 client for the test's
 * own arranging and tampering, and generated weight folders. Each test uses its own project name,
 * so tests never see each other's buckets.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { createAwsClients } from "../../../src/aws/clients.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import type { UploadDeps } from "../../../src/deployer/upload/index.js";
import { projectNames, type ProjectNames } from "../../../src/infra/names.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";

export interface Harness {
  moto: Moto;
  s3: S3Client;
  deps(): UploadDeps;
  /** A fresh project whose bucket exists (or not, with `bucket: false`). */
  project(name: string, options?: { bucket?: boolean }): Promise<ProjectNames>;
  /** A temp folder with the given files (name -> size in bytes, random content). */
  weights(files: Record<string, number>): string;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  const s3 = new S3Client({ ...sdkConfigFor(moto.url), maxAttempts: 1 });
  const temp = mkdtempSync(path.join(tmpdir(), "synkti-upload-it-"));
  let folders = 0;
  return {
    moto,
    s3,
    deps: () => ({ clients: createAwsClients({ role: "deployer", maxAttempts: 1 }), log: silentLogger, clock: systemClock }),
    async project(name, options = {}) {
      const names = projectNames(name);
      if (options.bucket !== false) await s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
      return names;
    },
    weights(files) {
      const dir = path.join(temp, `w${folders++}`);
      for (const [rel, size] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), randomBytes(size));
      }
      return dir;
    },
    async close() {
      s3.destroy();
      rmSync(temp, { recursive: true, force: true });
      await moto.stop();
    },
  };
}

export const MiB = 1024 * 1024;
