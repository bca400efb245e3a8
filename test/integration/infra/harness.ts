/**
 * Set-up for the infra integration tests: one moto per test file, the real client factory pointed
 * at it through AWS_ENDPOINT_URL (as the CLI does), and raw SDK clients for the test's own
 * checking and tampering. Every test uses its own project name, so tests never share resources.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { S3Client } from "@aws-sdk/client-s3";
import { createAwsClients } from "../../../src/aws/clients.js";
import { systemClock } from "../../../src/core/clock.js";
import { silentLogger } from "../../../src/core/log.js";
import type { InfraDeps } from "../../../src/infra/index.js";
import { projectNames, type ProjectNames } from "../../../src/infra/names.js";
import { awsEnvFor, sdkConfigFor, startMoto, type Moto } from "../../support/moto.js";

export interface InfraHarness {
  moto: Moto;
  s3: S3Client;
  iam: IAMClient;
  ec2(region?: string): EC2Client;
  deps(region?: string): InfraDeps;
  /** A project name no other test in this file uses. */
  project(label: string): ProjectNames;
  close(): Promise<void>;
}

export async function startInfraHarness(): Promise<InfraHarness> {
  const moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.url));
  const config = { ...sdkConfigFor(moto.url), maxAttempts: 1 };
  const s3 = new S3Client(config);
  const iam = new IAMClient(config);
  const ec2s = new Map<string, EC2Client>();
  let projects = 0;
  return {
    moto,
    s3,
    iam,
    ec2(region = "us-east-1") {
      let client = ec2s.get(region);
      if (!client) ec2s.set(region, (client = new EC2Client({ ...config, region })));
      return client;
    },
    deps: (region) => ({
      clients: createAwsClients({ role: "deployer", maxAttempts: 1, ...(region ? { region } : {}) }),
      log: silentLogger,
      clock: systemClock,
    }),
    project: (label) => projectNames(`it-${label}-${process.pid % 1000}-${projects++}`),
    async close() {
      for (const client of [s3, iam, ...ec2s.values()]) client.destroy();
      await moto.stop();
    },
  };
}
